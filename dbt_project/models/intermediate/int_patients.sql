-- One clinic patient model over every format, with its fate in Zoho:
--   a confirmed duplicate is excluded (rule merged_into_surviving_patient), its records move on;
--   a Prospect / Referral Inquiry with no visit becomes a Lead (patient_status_map);
--   everyone else is a Contact, inactive and deceased ones archived (never dropped).
with

unioned as (
    select * from {{ ref('stg_generic__patients') }}
    union all by name
    select * from {{ ref('stg_synthea__patients') }}
    union all by name
    select * from {{ ref('stg_fhir__patient') }}
),

referral_sources as (
    select
        referral_source_id,
        referral_source_name
    from {{ ref('stg_generic__referral_sources') }}
),

visits as (
    select distinct patient_id
    from {{ ref('int_appointments_unioned') }}
),

status_map as (
    select * from {{ ref('patient_status_map') }}
)

select
    unioned.patient_id,
    unioned.clinic_id,
    nullif(trim(unioned.first_name), '') as first_name,
    nullif(trim(unioned.last_name), '') as last_name,
    unioned.birth_date,
    unioned.sex,
    nullif(lower(trim(unioned.email)), '') as email,
    nullif(trim(unioned.phone), '') as phone,
    unioned.address_line,
    unioned.city,
    unioned.state,
    unioned.postal_code,
    unioned.patient_status,
    unioned.deceased_date,
    unioned.referral_source_id,
    lower(trim(referral_sources.referral_source_name)) as referral_source_value,
    -- the patient's primary provider: owns the Contact or Lead (zoho_contacts, zoho_leads)
    unioned.primary_provider_id,
    unioned.created_at,
    -- communication consent (null: the export does not say); the method is the key of
    -- contact_method_map
    unioned.email_opt_out,
    unioned.sms_opt_out,
    nullif(lower(trim(unioned.preferred_contact_method)), '') as contact_method_value,
    visits.patient_id is not null as has_visits,
    patient_merges.surviving_patient_id,
    coalesce(status_map.Patient_Status, unioned.patient_status) as zoho_patient_status,
    coalesce(status_map.is_archived, false) as is_archived,
    status_map.Lead_Status as zoho_lead_status,
    case
        when patient_merges.surviving_patient_id is not null then null
        when status_map.module_without_visits = 'Leads' and visits.patient_id is null then 'Leads'
        else 'Contacts'
    end as zoho_module,
    case
        when patient_merges.surviving_patient_id is not null then 'merged_into_surviving_patient'
    end as exclusion_rule,
    unioned.source_format,
    'patients' as source_entity,
    1 as source_rows,
    unioned._source_file,
    unioned._source_row
from unioned
left join referral_sources on unioned.referral_source_id = referral_sources.referral_source_id
left join {{ ref('int_patient_merges') }} as patient_merges on unioned.patient_id = patient_merges.duplicate_patient_id
left join visits on unioned.patient_id = visits.patient_id
left join status_map on unioned.patient_status = status_map.source_status
