-- Confirmed duplicates (seed patient_merges, plus an optional file for one run): every record of
-- the duplicate moves to the surviving patient.
select distinct
    trim(duplicate_patient_id) as duplicate_patient_id,
    trim(surviving_patient_id) as surviving_patient_id
from ({{ seed_plus_file('patient_merges', 'patient_merges_file', ['duplicate_patient_id', 'surviving_patient_id']) }})
