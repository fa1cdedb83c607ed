with

source as (
    select *
    from
        {{ mapped_source('generic', 'appointments', [
            'appointment_id', 'patient_id', 'provider_id', 'clinic_id', 'visit_date',
            'start_time', 'end_time', 'appointment_type', 'reason', 'outcome',
            'created_at', 'updated_at'
        ]) }}
),

renamed as (
    select
        appointment_id,
        patient_id,
        provider_id,
        clinic_id,
        {{ parse_as('visit_date', 'date') }} as visit_date,
        {{ local_to_instant('start_time') }} as starts_at,
        {{ local_to_instant('end_time') }} as ends_at,
        appointment_type,
        reason,
        lower(outcome) as outcome,
        {{ local_to_instant('created_at') }} as created_at,
        {{ lineage_columns('generic') }}
    from source
    {{ latest_version('appointment_id') }}
)

select * from renamed
