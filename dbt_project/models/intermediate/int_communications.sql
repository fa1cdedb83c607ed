-- The communication log of every format: calls, e-mails, SMS, letters and portal messages with
-- their original instant. Phone calls go to Zoho Calls, the rest to the custom module
-- Communications; both follow their patient to a Contact or a Lead (a merged duplicate's log moves
-- to the surviving patient). FHIR names the staff member by Practitioner id or NPI. An entry
-- with no readable time or an unknown channel cannot be placed in time or in a module: excluded
-- by a named rule (row conservation counts it), never loaded undated.
with

fhir_communications as (
    select
        communications.* exclude (provider_ref, provider_npi),  -- noqa: RF02
        coalesce(by_id.provider_id, by_npi.provider_id) as provider_id
    from {{ ref('stg_fhir__communication') }} as communications
    left join {{ ref('stg_fhir__practitioner') }} as by_id on communications.provider_ref = by_id.provider_id
    left join {{ ref('stg_fhir__practitioner') }} as by_npi on communications.provider_npi = by_npi.npi
),

unioned as (
    select * from {{ ref('stg_generic__communications') }}
    union all by name
    select * from fhir_communications
),

placed as (
    select
        unioned.communication_id,
        {{ surviving_patient_id('unioned') }} as patient_id,
        patients.zoho_module as parent_module,
        unioned.provider_id,
        unioned.channel,
        unioned.direction,
        unioned.started_at,
        unioned.duration_seconds,
        nullif(trim(unioned.subject), '') as subject,
        unioned.body,
        unioned.outcome,
        case
            when patients.patient_id is null then 'unknown_patient'
            when unioned.started_at is null then 'no_readable_time'
            when unioned.channel not in ('phone', 'sms', 'email', 'letter', 'portal') or unioned.channel is null
                then 'unknown_channel'
        end as exclusion_rule,
        unioned.source_format,
        unioned._source_file,
        unioned._source_row
    from unioned
    {{ join_surviving_patient('unioned') }}
)

select
    communication_id,
    patient_id,
    parent_module,
    provider_id,
    channel,
    direction,
    started_at,
    duration_seconds,
    subject,
    body,
    outcome,
    exclusion_rule,
    case
        when exclusion_rule is not null then null
        when channel = 'phone' then 'Calls'
        else 'Communications'
    end as zoho_module,
    source_format,
    'communications' as source_entity,
    1 as source_rows,
    _source_file,
    _source_row
from placed
