with

source as (
    {{ fhir_resources('documentreference') }}
),

renamed as (
    select
        resource_id as note_id,
        replace(resource ->> '$.subject.reference', 'Patient/', '') as patient_id,
        replace(resource ->> '$.context.encounter[0].reference', 'Encounter/', '') as appointment_id,
        regexp_extract(resource ->> '$.author[0].reference', '\|([^|]+)$', 1) as provider_npi,
        {{ parse_as("resource ->> '$.date'", 'timestamptz') }} as noted_at,
        coalesce(resource ->> '$.type.text', resource ->> '$.type.coding[0].display') as note_type,
        case
            when resource ->> '$.content[0].attachment.contentType' like 'text/html%' then 'html'
            when resource ->> '$.content[0].attachment.contentType' like '%rtf%' then 'rtf'
            else 'text'
        end as content_format,
        -- the note text travels base64-encoded inside the resource
        {{ parse_as("resource ->> '$.content[0].attachment.data'", 'base64_text') }} as content,
        {{ lineage_columns('fhir') }}
    from source
    {{ latest_version('resource_id') }}
)

select * from renamed
