with

source as (
    {{ fhir_resources('organization') }}
),

renamed as (
    select
        resource_id as clinic_id,
        resource ->> '$.name' as clinic_name,
        list_filter(json_extract(resource, '$.telecom[*]'), lambda t: t ->> 'system' = 'phone')[1] ->> 'value' as phone,
        resource ->> '$.address[0].line[0]' as address_line,
        resource ->> '$.address[0].city' as city,
        resource ->> '$.address[0].state' as state,
        resource ->> '$.address[0].postalCode' as postal_code,
        {{ lineage_columns('fhir') }}
    from source
    {{ latest_version('resource_id') }}
)

select * from renamed
