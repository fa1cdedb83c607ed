-- Tasks: past visits recorded without times. Tasks have no type field: the custom pick-list
-- Visit_Type says Visit; Status is Completed (the visit is over); the outcome goes to Visit_Outcome.
-- The appointment type goes to Appointment_Type through the appointment_type_map seed.
select
    appointments.appointment_id as Clinic_Appointment_Id,
    concat_ws(' ', 'Visit:', coalesce(appointments.visit_description, appointments.appointment_type, 'visit'))
        as Subject,
    {{ zoho_date('appointments.visit_date') }} as Due_Date,
    'Completed' as Status,
    'Visit' as Visit_Type,
    coalesce(outcomes.Visit_Outcome, appointments.outcome) as Visit_Outcome,
    appointment_types.Appointment_Type,
    owners.Email as Owner,
    appointments.patient_id as Who_Id,
    appointments.reason as Description
{{ clinic_extra_columns('appointments') }}
from {{ ref('int_appointments') }} as appointments
left join {{ ref('zoho_users_resolution') }} as owners on appointments.provider_id = owners.provider_id
left join {{ ref('visit_outcome_map') }} as outcomes on appointments.outcome = outcomes.source_outcome
left join {{ ref('appointment_type_map') }} as appointment_types
    on lower(trim(appointments.appointment_type)) = appointment_types.source_type
where appointments.exclusion_rule is null and appointments.zoho_module = 'Tasks'
