{{ config(severity='warn', store_failures=true) }}
-- Values Zoho would refuse (malformed emails) are left empty on the record rather than failing
-- it; this lists them (patient id and field only) so the clinic can correct them at the source.
select
    patient_id,
    'email' as field,
    zoho_module
from {{ ref('int_patients') }}
where
    exclusion_rule is null
    and email is not null
    and {{ valid_email('email') }} is null
