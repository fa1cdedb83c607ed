-- The email each provider is known by in Zoho: the clinic's override wins over the export's email
-- (Synthea has none; clinics move mail domains).
with

overrides as (
    select
        trim(provider_id) as provider_id,
        nullif(lower(trim(email)), '') as email
    from ({{ seed_plus_file('provider_email_overrides', 'provider_email_overrides_file', ['provider_id', 'email']) }})
    qualify row_number() over (partition by trim(provider_id) order by email) = 1
)

select
    providers.provider_id,
    providers.provider_name,
    providers.provider_status,
    providers.source_email,
    overrides.email as override_email,
    coalesce(overrides.email, providers.source_email) as email,
    case
        when overrides.email is not null then 'override'
        when providers.source_email is not null then 'export'
    end as email_source
from {{ ref('int_providers') }} as providers
left join overrides on providers.provider_id = overrides.provider_id
