{{ config(severity='warn', store_failures=true) }}
-- Every appointment type a mapped visit carries has a value in seed appointment_type_map; the
-- failing rows list each unmapped type (lower-cased, trimmed, as the models compare it) with the
-- number of visits. Such a visit loads with an empty Appointment_Type (its title keeps the type):
-- add the value to value_maps.appointment_type_map of the mapping file and confirm again.
select
    lower(trim(appointments.appointment_type)) as unmapped_appointment_type,
    count(*) as appointments
from {{ ref('int_appointments') }} as appointments
left join {{ ref('appointment_type_map') }} as appointment_types
    on lower(trim(appointments.appointment_type)) = appointment_types.source_type
where
    appointments.exclusion_rule is null
    and nullif(trim(appointments.appointment_type), '') is not null
    and appointment_types.source_type is null
group by lower(trim(appointments.appointment_type))
order by unmapped_appointment_type
