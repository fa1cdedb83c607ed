with

source as (
    {{ fhir_resources('practitioner') }}
),

renamed as (
    select
        resource_id as provider_id,
        list_filter(
            json_extract(resource, '$.identifier[*]'), lambda i: i ->> 'system' = 'http://hl7.org/fhir/sid/us-npi'
        )[1]
        ->> 'value' as npi,
        resource ->> '$.name[0].given[0]' as first_name,
        resource ->> '$.name[0].family' as last_name,
        concat_ws(' ', resource ->> '$.name[0].given[0]', resource ->> '$.name[0].family') as provider_name,
        lower(list_filter(json_extract(resource, '$.telecom[*]'), lambda t: t ->> 'system' = 'email')[1] ->> 'value')
            as email,
        case when coalesce(resource ->> '$.active', 'true') = 'true' then 'active' else 'inactive' end
            as provider_status,
        {{ lineage_columns('fhir') }}
    from source
    {{ latest_version('resource_id') }}
)

select * from renamed
