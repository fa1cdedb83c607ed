with

source as (
    select *
    from
        {{ mapped_source('generic', 'clinical_notes', [
            'note_id', 'patient_id', 'appointment_id', 'provider_id', 'note_date',
            'note_type', 'content_format', 'content'
        ]) }}
),

renamed as (
    select
        note_id,
        patient_id,
        appointment_id,
        provider_id,
        {{ local_to_instant('note_date') }} as noted_at,
        note_type,
        lower(content_format) as content_format,
        content,
        {{ lineage_columns('generic') }}
    from source
    {{ latest_version('note_id') }}
)

select * from renamed
