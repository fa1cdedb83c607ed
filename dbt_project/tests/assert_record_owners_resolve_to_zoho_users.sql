{{ config(store_failures=true) }}
-- The provider-email gate: every provider who owns records (events, tasks, treatments, care
-- programs) resolves to an active user of the target Zoho org. The failing rows are the readable
-- list of unresolved providers: fill their emails in seed provider_email_overrides, or invite
-- them (clinic2zoho invite-providers); an invited provider is listed until the invitation is accepted.
select
    provider_id,
    Provider_Name as provider_name,
    coalesce(Email, '(no email in export or overrides)') as email_tried,
    coalesce(Email_Source, 'none') as email_source,
    Owned_Records as owned_records,
    case Resolution_Status
        when 'awaiting_acceptance' then 'invited, waiting for acceptance'
        else 'no active user with this email'
    end as resolution
from {{ ref('zoho_users_resolution') }}
where Owned_Records > 0 and Resolution_Status <> 'matched'
order by provider_id
