-- Workflows are not migrated: each one is listed with its trigger, its actions, and the Zoho
-- construct to rebuild it with (workflow_construct_map seed): Workflow Rules for triggers and
-- instant actions, Assignment Rules, Deluge functions for scripts and SMS, Blueprint for
-- multi-stage processes.
with

workflows as (
    select * from {{ ref('int_workflows') }}
),

actions as (
    select
        workflows.workflow_id,
        workflow_action.position,
        workflow_action.value ->> '$.type' as action_type
    from workflows,
        lateral (
            select
                generate_subscripts(json_extract(workflows.actions, '$[*]'), 1) as position,
                unnest(json_extract(workflows.actions, '$[*]')) as value
        ) as workflow_action
),

constructs as (
    select * from {{ ref('workflow_construct_map') }}
),

described_actions as (
    select
        actions.workflow_id,
        string_agg(actions.action_type, ', ' order by actions.position) as actions,
        string_agg(
            concat(
                actions.action_type, ' -> ', coalesce(constructs.zoho_construct, 'no known construct: rebuild by hand')
            ),
            '; ' order by actions.position
        ) as action_constructs,
        string_agg(constructs.rebuild_hint, ' ' order by actions.position) as action_hints,
        count(*) filter (where constructs.zoho_construct is null) as unknown_actions
    from actions
    left join constructs on constructs.kind = 'action' and actions.action_type = constructs.source_type
    group by actions.workflow_id
)

select
    workflows.workflow_id,
    workflows.workflow_name,
    workflows.is_active,
    workflows.trigger_type,
    workflows.trigger_entity,
    workflows.trigger_condition,
    coalesce(triggers.zoho_construct, 'no known construct: rebuild by hand') as zoho_trigger_construct,
    described_actions.actions,
    described_actions.action_constructs,
    concat_ws(' ', triggers.rebuild_hint, described_actions.action_hints) as rebuild_steps,
    coalesce(described_actions.unknown_actions, 0) + case when triggers.zoho_construct is null then 1 else 0 end
        as unknown_constructs
from workflows
left join constructs as triggers on triggers.kind = 'trigger' and workflows.trigger_type = triggers.source_type
left join described_actions on workflows.workflow_id = described_actions.workflow_id
