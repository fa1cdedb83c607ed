with

source as (
    {{ fhir_resources('encounter') }}
),

renamed as (
    select
        resource_id as appointment_id,
        replace(resource ->> '$.subject.reference', 'Patient/', '') as patient_id,
        -- participants reference practitioners by NPI (Practitioner?identifier=<system>|<npi>)
        regexp_extract(resource ->> '$.participant[0].individual.reference', '\|([^|]+)$', 1) as provider_npi,
        regexp_extract(resource ->> '$.serviceProvider.reference', '\|([^|]+)$', 1) as clinic_id,
        {{ parse_as("resource ->> '$.period.start'", 'timestamptz') }} as starts_at,
        {{ parse_as("resource ->> '$.period.end'", 'timestamptz') }} as ends_at,
        resource ->> '$.class.code' as appointment_type,
        resource ->> '$.type[0].text' as visit_description,
        resource ->> '$.reasonCode[0].coding[0].display' as reason,
        resource ->> '$.status' as outcome,
        {{ lineage_columns('fhir') }}
    from source
    {{ latest_version('resource_id') }}
)

select * from renamed
