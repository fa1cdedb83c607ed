-- Workflow definitions, one row per workflow, with their trigger and the list of action types.
select
    workflow_id,
    workflow_name,
    is_active,
    coalesce(trigger_type, definition ->> '$.trigger.type') as trigger_type,
    coalesce(trigger_entity, definition ->> '$.trigger.entity') as trigger_entity,
    definition ->> '$.trigger.condition' as trigger_condition,
    cast(definition -> '$.actions' as json) as actions,
    source_format
from {{ ref('stg_generic__workflows') }}
