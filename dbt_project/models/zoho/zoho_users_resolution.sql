-- Each provider -> the email it is known by -> the Zoho user of the org being loaded
-- (raw.zoho_users, landed from the org's users). Zoho user ids are looked up again by email at
-- load time, so a sandbox org and the production org each resolve their own ids; this table
-- is the gate: a provider who owns records and matches no active user stops the load. A user
-- invited through `clinic2zoho invite-providers` is active but unconfirmed (Zoho's `confirm`
-- false) until the invitation is accepted, and owns no record until then: awaiting_acceptance.
with

zoho_users as (
    select
        lower(trim(email)) as email,
        max(id) as zoho_user_id,
        max(status) as zoho_user_status,
        bool_or(coalesce(cast(confirmed as varchar), 'true') <> 'false') as confirmed
    from {{ source_or_empty('zoho_org', 'zoho_users',
        ['id', 'email', 'full_name', 'status', 'org_label', 'confirmed']) }}
    where coalesce(lower(status), 'active') = 'active'
    group by lower(trim(email))
),

owned_records as (
    select
        provider_id,
        count(*) as owned_records
    from (
        select provider_id from {{ ref('int_appointments') }}
        where exclusion_rule is null
        union all
        select provider_id from {{ ref('int_treatments') }}
        where exclusion_rule is null
        union all
        select coordinator_provider_id from {{ ref('int_care_programs') }}
        where exclusion_rule is null
        union all
        -- the staff member who called or wrote owns the Call or Communication
        select provider_id from {{ ref('int_communications') }}
        where exclusion_rule is null
        union all
        -- the primary provider owns the patient's Contact or Lead
        select primary_provider_id from {{ ref('int_patients') }}
        where exclusion_rule is null
    ) as owners
    where provider_id is not null
    group by provider_id
)

select
    providers.provider_id,
    providers.provider_name as Provider_Name,
    providers.provider_status as Provider_Status,
    providers.email as Email,
    providers.email_source as Email_Source,
    zoho_users.zoho_user_id as Zoho_User_Id,
    case
        when zoho_users.email is null then 'unmatched'
        when zoho_users.confirmed then 'matched'
        else 'awaiting_acceptance'
    end as Resolution_Status,
    coalesce(owned_records.owned_records, 0) as Owned_Records
from {{ ref('int_provider_emails') }} as providers
left join zoho_users on providers.email = zoho_users.email
left join owned_records on providers.provider_id = owned_records.provider_id
