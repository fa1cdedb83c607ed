{#- What a visit going to Zoho as an Event or a Task joins, from int_appointments as `appointments`:
    its owner (the provider's e-mail, zoho_users_resolution), its outcome (visit_outcome_map) and
    its type (appointment_type_map, empty when unmapped). -#}
{% macro visit_activity_joins() %}
left join {{ ref('zoho_users_resolution') }} as owners on appointments.provider_id = owners.provider_id
left join {{ ref('visit_outcome_map') }} as outcomes on appointments.outcome = outcomes.source_outcome
left join {{ ref('appointment_type_map') }} as appointment_types
    on lower(trim(appointments.appointment_type)) = appointment_types.source_type
{% endmacro %}
