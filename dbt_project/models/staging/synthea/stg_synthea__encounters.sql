with

source as (
    select *
    from
        {{ source_or_empty('synthea', 'encounters', [
            'id', 'start', 'stop', 'patient', 'organization', 'provider', 'payer',
            'encounterclass', 'code', 'description', 'reasoncode', 'reasondescription'
        ]) }}
),

renamed as (
    select
        id as appointment_id,
        patient as patient_id,
        provider as provider_id,
        organization as clinic_id,
        payer as payer_id,
        {{ parse_as('start', 'timestamptz') }} as starts_at,
        {{ parse_as('stop', 'timestamptz') }} as ends_at,
        encounterclass as appointment_type,
        code as visit_code,
        description as visit_description,
        reasondescription as reason,
        -- Synthea records only encounters that took place
        case when stop is not null then 'finished' else 'planned' end as outcome,
        {{ lineage_columns('synthea') }}
    from source
    {{ latest_version('id') }}
)

select * from renamed
