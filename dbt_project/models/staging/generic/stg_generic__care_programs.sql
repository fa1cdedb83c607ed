with

source as (
    select *
    from
        {{ mapped_source('generic', 'care_programs', [
            'program_id', 'name', 'description', 'start_date', 'coordinator_provider_id'
        ]) }}
),

renamed as (
    select
        program_id,
        name as program_name,
        description,
        {{ parse_as('start_date', 'date') }} as start_date,
        coordinator_provider_id,
        {{ lineage_columns('generic') }}
    from source
    {{ latest_version('program_id') }}
)

select * from renamed
