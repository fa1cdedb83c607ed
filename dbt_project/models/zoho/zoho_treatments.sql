-- Treatments (custom module): CPT or other code, description, date, provider (owner), outcome,
-- looked up to the Contact.
select
    treatments.treatment_id as Clinic_Treatment_Id,
    left(coalesce(treatments.description, treatments.code, 'Treatment'), 120) as Name,
    treatments.patient_id as Contact,
    treatments.code_system as Code_System,
    treatments.code as Code,
    treatments.description as Treatment_Description,
    {{ zoho_date('treatments.treatment_date') }} as Treatment_Date,
    owners.Email as Owner,
    treatments.outcome as Outcome
{{ clinic_extra_columns('treatments') }}
from {{ ref('int_treatments') }} as treatments
left join {{ ref('zoho_users_resolution') }} as owners on treatments.provider_id = owners.provider_id
where treatments.exclusion_rule is null
