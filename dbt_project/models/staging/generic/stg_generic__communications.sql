with

source as (
    select *
    from
        {{ mapped_source('generic', 'communications', [
            'communication_id', 'patient_id', 'provider_id', 'channel', 'direction',
            'started_at', 'duration_seconds', 'subject', 'body', 'outcome'
        ]) }}
),

renamed as (
    select
        communication_id,
        patient_id,
        nullif(trim(provider_id), '') as provider_id,
        lower(trim(channel)) as channel,
        lower(trim(direction)) as direction,
        {{ local_to_instant('started_at') }} as started_at,
        {{ parse_as('duration_seconds', 'integer') }} as duration_seconds,
        subject,
        body,
        lower(trim(outcome)) as outcome,
        {{ lineage_columns('generic') }}
    from source
    {{ latest_version('communication_id') }}
)

select * from renamed
