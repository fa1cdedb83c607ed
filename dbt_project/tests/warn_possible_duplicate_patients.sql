{{ config(severity='warn', store_failures=true) }}
-- Patient pairs the Data Quality Report lists below the decision threshold and nobody decided: they
-- load as two patients. Merge the ones that are one person (clinic2zoho resolve-duplicates). Ids only.
select
    patient_id_1,
    patient_id_2,
    round(match_probability, 4) as match_probability
from {{ ref('int_duplicate_decisions') }}
where not needs_decision and decision is null
order by match_probability desc, patient_id_1 asc, patient_id_2 asc
