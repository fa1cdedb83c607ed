with

source as (
    {{ fhir_resources('procedure') }}
),

renamed as (
    select
        resource_id as treatment_id,
        replace(resource ->> '$.subject.reference', 'Patient/', '') as patient_id,
        replace(resource ->> '$.encounter.reference', 'Encounter/', '') as appointment_id,
        case resource ->> '$.code.coding[0].system'
            when 'http://snomed.info/sct' then 'SNOMED-CT'
            when 'http://www.ama-assn.org/go/cpt' then 'CPT'
            else resource ->> '$.code.coding[0].system'
        end as code_system,
        resource ->> '$.code.coding[0].code' as code,
        coalesce(resource ->> '$.code.text', resource ->> '$.code.coding[0].display') as description,
        {{ parse_as(
            "coalesce(resource ->> '$.performedPeriod.start', resource ->> '$.performedDateTime')", 'timestamptz'
        ) }} as performed_at,
        resource ->> '$.status' as outcome,
        {{ lineage_columns('fhir') }}
    from source
    {{ latest_version('resource_id') }}
)

select * from renamed
