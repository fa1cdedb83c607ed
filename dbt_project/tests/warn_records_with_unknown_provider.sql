{{ config(severity='warn', store_failures=true) }}
-- Visits naming a provider missing from the export: they load owned by the loading user.
select
    appointments.appointment_id,
    appointments.provider_id as unknown_provider_id
from {{ ref('int_appointments') }} as appointments
left join {{ ref('int_providers') }} as providers on appointments.provider_id = providers.provider_id
where
    appointments.exclusion_rule is null
    and appointments.provider_id is not null
    and providers.provider_id is null
