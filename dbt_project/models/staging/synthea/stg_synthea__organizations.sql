with

source as (
    select *
    from {{ source_or_empty('synthea', 'organizations', [
            'id', 'name', 'address', 'city', 'state', 'zip', 'phone'
        ]) }}
),

renamed as (
    select
        id as clinic_id,
        name as clinic_name,
        phone,
        address as address_line,
        city,
        state,
        zip as postal_code,
        {{ lineage_columns('synthea') }}
    from source
    {{ latest_version('id') }}
)

select * from renamed
