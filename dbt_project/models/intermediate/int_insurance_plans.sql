-- One insurance plan per patient and priority. Synthea has coverage periods, not plans: its
-- periods are grouped per patient and payer (primary payer, and secondary payer when named);
-- periods without insurance (payer NO_INSURANCE) are excluded by rule no_insurance_period.
with

synthea_periods as (
    select
        transitions.patient_id,
        priority.priority,
        case priority.priority when 'primary' then transitions.payer_id else transitions.secondary_payer_id end
            as payer_id,
        transitions.member_id,
        transitions.starts_at,
        transitions.ends_at,
        transitions.ownership,
        transitions._source_file,
        transitions._source_row
    from {{ ref('stg_synthea__payer_transitions') }} as transitions
    cross join (values ('primary'), ('secondary')) as priority (priority)
    where priority.priority = 'primary' or transitions.secondary_payer_id is not null
),

synthea_plans as (
    select
        md5(concat_ws('|', periods.patient_id, periods.priority, periods.payer_id)) as plan_id,
        periods.patient_id,
        periods.priority,
        payers.payer_name as carrier,
        periods.payer_id,
        max(periods.member_id) as policy_number,
        cast(null as varchar) as group_id,
        max(periods.ownership) as coverage_type,
        cast(min(periods.starts_at) as date) as effective_date,
        cast(max(periods.ends_at) as date) as termination_date,
        'synthea' as source_format,
        'payer_transitions' as source_entity,
        -- a period naming a secondary payer is counted once, in its primary plan
        count(*) filter (where periods.priority = 'primary') as source_rows,
        min(periods._source_file) as _source_file,
        min(periods._source_row) as _source_row
    from synthea_periods as periods
    left join {{ ref('stg_synthea__payers') }} as payers on periods.payer_id = payers.payer_id
    group by periods.patient_id, periods.priority, periods.payer_id, payers.payer_name
),

generic_plans as (
    select
        *,
        'insurance_plans' as source_entity,
        1 as source_rows
    from {{ ref('stg_generic__insurance_plans') }}
),

unioned as (
    select * from generic_plans
    union all by name
    select * from synthea_plans
)

select
    unioned.plan_id,
    {{ surviving_patient_id('unioned') }} as patient_id,
    unioned.priority,
    unioned.carrier,
    unioned.payer_id,
    unioned.policy_number,
    unioned.group_id,
    unioned.coverage_type,
    unioned.effective_date,
    unioned.termination_date,
    coalesce(
        case when unioned.carrier = 'NO_INSURANCE' then 'no_insurance_period' end,
        {{ related_record_exclusion('patients') }}
    ) as exclusion_rule,
    unioned.source_format,
    unioned.source_entity,
    unioned.source_rows,
    unioned._source_file,
    unioned._source_row
from unioned
{{ join_surviving_patient('unioned') }}
