with

source as (
    select *
    from
        {{ source_or_empty('synthea', 'patients', [
            'id', 'birthdate', 'deathdate', 'prefix', 'first', 'last', 'suffix', 'gender',
            'address', 'city', 'state', 'zip'
        ]) }}
),

renamed as (
    select
        id as patient_id,
        first as first_name,
        last as last_name,
        {{ parse_as('birthdate', 'date') }} as birth_date,
        gender as sex,
        address as address_line,
        city,
        state,
        zip as postal_code,
        {{ parse_as('deathdate', 'date') }} as deceased_date,
        -- Synthea has no patient status: a death date makes the patient Deceased
        case when deathdate is not null then 'Deceased' else 'Active' end as patient_status,
        -- Synthea carries no communication consent: unknown, never assumed
        cast(null as boolean) as email_opt_out,
        cast(null as boolean) as sms_opt_out,
        cast(null as varchar) as preferred_contact_method,
        {{ lineage_columns('synthea') }}
    from source
    {{ latest_version('id') }}
)

select * from renamed
