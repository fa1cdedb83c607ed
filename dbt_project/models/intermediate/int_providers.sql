-- Providers of every format. FHIR practitioners get their clinic and specialty from their
-- PractitionerRole (joined by NPI, the key FHIR references practitioners by).
with

fhir_roles as (
    select
        npi,
        clinic_id,
        specialty
    from {{ ref('stg_fhir__practitionerrole') }}
    qualify row_number() over (partition by npi order by role_id) = 1
),

fhir_practitioners as (
    select
        practitioner.* exclude (provider_status),  -- noqa: RF02
        practitioner.provider_status,
        fhir_roles.clinic_id,
        fhir_roles.specialty
    from {{ ref('stg_fhir__practitioner') }} as practitioner
    left join fhir_roles on practitioner.npi = fhir_roles.npi
),

unioned as (
    select * from {{ ref('stg_generic__providers') }}
    union all by name
    select * from {{ ref('stg_synthea__providers') }}
    union all by name
    select * from fhir_practitioners
)

select
    provider_id,
    clinic_id,
    first_name,
    last_name,
    coalesce(provider_name, concat_ws(' ', first_name, last_name)) as provider_name,
    nullif(lower(trim(email)), '') as source_email,
    npi,
    specialty,
    provider_status,
    source_format,
    _source_file,
    _source_row
from unioned
