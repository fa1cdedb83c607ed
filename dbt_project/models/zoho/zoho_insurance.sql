-- Insurance (custom module): one record per plan per patient (primary, secondary, ...), with
-- carrier, policy number, group id and coverage type, looked up to the Contact.
select
    plan_id as Clinic_Insurance_Id,
    concat(coalesce(carrier, 'Insurance'), ' (', coalesce(priority, 'plan'), ')') as Name,
    patient_id as Contact,
    carrier as Carrier,
    payer_id as Payer_Id,
    policy_number as Policy_Number,
    group_id as Group_Id,
    coverage_type as Coverage_Type,
    case lower(priority)
        when 'primary' then 'Primary'
        when 'secondary' then 'Secondary'
        when 'tertiary' then 'Tertiary'
        else priority
    end as Priority,
    {{ zoho_date('effective_date') }} as Effective_Date,
    {{ zoho_date('termination_date') }} as Termination_Date
{{ clinic_extra_columns('int_insurance_plans') }}
from {{ ref('int_insurance_plans') }}
where exclusion_rule is null
