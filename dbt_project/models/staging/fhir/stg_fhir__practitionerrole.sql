with

source as (
    {{ fhir_resources('practitionerrole') }}
),

renamed as (
    select
        resource_id as role_id,
        resource ->> '$.practitioner.identifier.value' as npi,
        resource ->> '$.organization.identifier.value' as clinic_id,
        resource ->> '$.specialty[0].text' as specialty,
        {{ lineage_columns('fhir') }}
    from source
    {{ latest_version('resource_id') }}
)

select * from renamed
