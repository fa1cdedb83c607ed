-- Appointments with their Zoho target: a visit with a start time is an Event; a past visit
-- recorded without times is a Task. Visits of a patient missing from the export are excluded
-- (rule unknown_patient).
with

appointments as (
    select * from {{ ref('int_appointments_unioned') }}
),

patients as (
    select * from {{ ref('int_patients') }}
    where exclusion_rule is null
),

fated as (
    select
        appointments.*,
        {{ related_record_exclusion('patients') }} as exclusion_rule
    from appointments
    left join patients on appointments.patient_id = patients.patient_id
)

select
    *,
    case
        when exclusion_rule is not null then null
        when starts_at is not null then 'Events'
        else 'Tasks'
    end as zoho_module,
    'appointments' as source_entity,
    1 as source_rows
from fated
