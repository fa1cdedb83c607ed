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
        'generic' as source_format,
        _source_file,
        _source_row,
        _loaded_at
    from source
    {{ latest_version('clinic_id') }}
)

select * from renamed
