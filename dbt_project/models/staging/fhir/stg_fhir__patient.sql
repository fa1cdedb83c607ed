with

source as (
    {{ fhir_resources('patient') }}
),

renamed as (
    select
        resource_id as patient_id,
        resource ->> '$.name[0].given[0]' as first_name,
        resource ->> '$.name[0].family' as last_name,
        {{ parse_as("resource ->> '$.birthDate'", 'date') }} as birth_date,
        resource ->> '$.gender' as sex,
        lower(list_filter(json_extract(resource, '$.telecom[*]'), lambda t: t ->> 'system' = 'email')[1] ->> 'value')
            as email,
        list_filter(json_extract(resource, '$.telecom[*]'), lambda t: t ->> 'system' = 'phone')[1] ->> 'value' as phone,
        resource ->> '$.address[0].line[0]' as address_line,
        resource ->> '$.address[0].city' as city,
        resource ->> '$.address[0].state' as state,
        resource ->> '$.address[0].postalCode' as postal_code,
        cast({{ parse_as("resource ->> '$.deceasedDateTime'", 'timestamptz') }} as date) as deceased_date,
        -- FHIR: a deceased patient is Deceased; active = false is Inactive; otherwise Active
        case
            when
                resource ->> '$.deceasedDateTime' is not null or resource ->> '$.deceasedBoolean' = 'true'
                then 'Deceased'
            when resource ->> '$.active' = 'false' then 'Inactive'
            else 'Active'
        end as patient_status,
        -- FHIR R4 has no opt-out element (consent lives in Consent resources, not exported here):
        -- unknown. The preferred channel is the telecom ranked 1 (ContactPoint.rank, 1 = highest).
        cast(null as boolean) as email_opt_out,
        cast(null as boolean) as sms_opt_out,
        list_filter(json_extract(resource, '$.telecom[*]'), lambda t: t ->> 'rank' = '1')[1] ->> 'system'
            as preferred_contact_method,
        {{ lineage_columns('fhir') }}
    from source
    {{ latest_version('resource_id') }}
)

select * from renamed
