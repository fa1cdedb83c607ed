-- Pairs of patients a person confirmed are two different people (seed patient_distinct, plus an
-- optional file for one run, as `clinic2zoho resolve-duplicates --distinct` writes it), with who
-- decided and when; the pair in id order, the latest decision on a pair kept.
select
    least(trim(patient_id_1), trim(patient_id_2)) as patient_id_1,
    greatest(trim(patient_id_1), trim(patient_id_2)) as patient_id_2,
    nullif(trim(decided_by), '') as decided_by,
    nullif(trim(decided_at), '') as decided_at
from (
    {{ seed_plus_file('patient_distinct', 'patient_distinct_file',
                      ['patient_id_1', 'patient_id_2', 'decided_by', 'decided_at']) }}
)
qualify row_number() over (
    partition by least(trim(patient_id_1), trim(patient_id_2)), greatest(trim(patient_id_1), trim(patient_id_2))
    order by decided_at desc nulls last
) = 1
