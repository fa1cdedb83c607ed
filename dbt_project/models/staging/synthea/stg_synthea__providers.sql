with

source as (
    select *
    from
        {{ source_or_empty('synthea', 'providers', [
            'id', 'organization', 'name', 'gender', 'speciality', 'address', 'city',
            'state', 'zip'
        ]) }}
),

renamed as (
    select
        id as provider_id,
        organization as clinic_id,
        name as provider_name,
        -- Synthea writes "Given123 Family456": split on the last space
        nullif(regexp_extract(name, '^(.*) [^ ]+$', 1), '') as first_name,
        regexp_extract(name, '([^ ]+)$', 1) as last_name,
        speciality as specialty,
        'active' as provider_status,
        {{ lineage_columns('synthea') }}
    from source
    {{ latest_version('id') }}
)

select * from renamed
