with

source as (
    select *
    from
        {{ mapped_source('generic', 'workflows', [
            'workflow_id', 'name', 'active', 'trigger_type', 'trigger_entity',
            'definition'
        ]) }}
),

renamed as (
    select
        workflow_id,
        name as workflow_name,
        {{ parse_as('active', 'boolean') }} as is_active,
        trigger_type,
        trigger_entity,
        definition,
        {{ lineage_columns('generic') }}
    from source
    {{ latest_version('workflow_id') }}
)

select * from renamed
