{{ config(store_failures=true) }}
-- The duplicate gate: every patient pair the Data Quality Report scored at or above its decision
-- threshold (0.99) is decided before anything reaches Zoho, by a person: merged
-- (patient_merges_file: duplicate_patient_id,surviving_patient_id) or confirmed as two different
-- people (patient_distinct_file: patient_id_1,patient_id_2,decided_by,decided_at). A pair decided
-- both ways fails too. `clinic2zoho resolve-duplicates --merge DUPLICATE=SURVIVOR --distinct ID1,ID2
-- --by NAME` writes both files in the work folder. Ids only.
select
    patient_id_1,
    patient_id_2,
    round(match_probability, 4) as match_probability,
    coalesce(decision, 'undecided') as decision,
    'merge (patient_merges_file) or distinct (patient_distinct_file): clinic2zoho resolve-duplicates'
        as to_record
from {{ ref('int_duplicate_decisions') }}
where (needs_decision and decision is null) or decision = 'contradictory'
order by patient_id_1, patient_id_2
