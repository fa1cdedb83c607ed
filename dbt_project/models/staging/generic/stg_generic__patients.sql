with

source as (
    select *
    from
        {{ mapped_source('generic', 'patients', [
            'patient_id', 'clinic_id', 'first_name', 'last_name', 'birth_date', 'sex',
            'email', 'phone', 'address_line', 'city', 'state', 'postal_code', 'status',
            'referral_source_id', 'primary_provider_id', 'created_at', 'updated_at',
            'email_opt_out', 'sms_opt_out', 'preferred_contact_method'
        ]) }}
),

renamed as (
    select
        patient_id,
        clinic_id,
        first_name,
        last_name,
        {{ parse_as('birth_date', 'date') }} as birth_date,
        sex,
        email,
        phone,
        address_line,
        city,
        state,
        postal_code,
        status as patient_status,
        cast(null as date) as deceased_date,
        referral_source_id,
        primary_provider_id,
        {{ local_to_instant('created_at') }} as created_at,
        {{ local_to_instant('updated_at') }} as updated_at,
        {{ parse_as('email_opt_out', 'boolean') }} as email_opt_out,
        {{ parse_as('sms_opt_out', 'boolean') }} as sms_opt_out,
        nullif(trim(preferred_contact_method), '') as preferred_contact_method,
        {{ lineage_columns('generic') }}
    from source
    {{ latest_version('patient_id') }}
)

select * from renamed
