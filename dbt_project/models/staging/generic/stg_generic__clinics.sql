with

source as (
    select *
    from
        {{ mapped_source('generic', 'clinics', [
            'clinic_id', 'name', 'phone', 'email', 'website', 'address_line', 'city',
            'state', 'postal_code'
        ]) }}
),

renamed as (
    select
        clinic_id,
        name as clinic_name,
        phone,
        email,
        website,
        address_line,
        city,
        state,
        postal_code,
        {{ lineage_columns('generic') }}
    from source
    {{ latest_version('clinic_id') }}
)

select * from renamed
