with

source as (
    select *
    from
        {{ mapped_source('generic', 'treatments', [
            'treatment_id', 'patient_id', 'appointment_id', 'provider_id', 'code_system',
            'code', 'description', 'treatment_date', 'outcome'
        ]) }}
),

renamed as (
    select
        treatment_id,
        patient_id,
        appointment_id,
        provider_id,
        code_system,
        code,
        description,
        {{ parse_as('treatment_date', 'date') }} as treatment_date,
        outcome,
        {{ lineage_columns('generic') }}
    from source
    {{ latest_version('treatment_id') }}
)

select * from renamed
