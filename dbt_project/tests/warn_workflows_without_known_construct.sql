{{ config(severity='warn', store_failures=true) }}
-- Workflows with a trigger or action no Zoho construct is known for: to be rebuilt by hand.
select
    workflow_id,
    zoho_trigger_construct,
    action_constructs
from {{ ref('workflow_rebuild_reference') }}
where unknown_constructs > 0
