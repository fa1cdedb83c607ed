-- Events: appointments with a start time, at their original start and end (ISO 8601 with the
-- clinic's UTC offset, var clinic_timezone), owned by the provider (email, resolved to a Zoho
-- user at load time), linked to the Contact (Who_Id). Zoho Events have no status: the outcome
-- goes to the custom pick-list Visit_Outcome through the visit_outcome_map seed.
-- The appointment type goes to the custom pick-list Appointment_Type through the
-- appointment_type_map seed (empty when unmapped: warn_unmapped_appointment_types lists it).
select
    appointments.appointment_id as Clinic_Appointment_Id,
    coalesce(appointments.visit_description, appointments.appointment_type, 'Visit') as Event_Title,
    {{ zoho_datetime('appointments.starts_at') }} as Start_DateTime,
    {{ zoho_datetime('appointments.ends_at') }} as End_DateTime,
    owners.Email as Owner,
    appointments.patient_id as Who_Id,
    coalesce(outcomes.Visit_Outcome, appointments.outcome) as Visit_Outcome,
    appointment_types.Appointment_Type,
    appointments.reason as Description
{{ clinic_extra_columns('appointments') }}
from {{ ref('int_appointments') }} as appointments
left join {{ ref('zoho_users_resolution') }} as owners on appointments.provider_id = owners.provider_id
left join {{ ref('visit_outcome_map') }} as outcomes on appointments.outcome = outcomes.source_outcome
left join {{ ref('appointment_type_map') }} as appointment_types
    on lower(trim(appointments.appointment_type)) = appointment_types.source_type
where appointments.exclusion_rule is null and appointments.zoho_module = 'Events'
