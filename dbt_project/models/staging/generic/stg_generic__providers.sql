with

source as (
    select *
    from
        {{ mapped_source('generic', 'providers', [
            'provider_id', 'clinic_id', 'first_name', 'last_name', 'email', 'npi',
            'specialty', 'phone', 'status'
        ]) }}
),

renamed as (
    select
        provider_id,
        clinic_id,
        first_name,
        last_name,
        concat_ws(' ', first_name, last_name) as provider_name,
        lower(trim(email)) as email,
        npi,
        specialty,
        phone,
        lower(status) as provider_status,
        {{ lineage_columns('generic') }}
    from source
    {{ latest_version('provider_id') }}
)

select * from renamed
