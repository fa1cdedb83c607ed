-- Treatments of every format. Synthea and FHIR procedures name no provider: they take the
-- provider of their encounter.
with

unioned as (
    select * from {{ ref('stg_generic__treatments') }}
    union all by name
    select
        * exclude (performed_at),
        {{ clinic_date('performed_at') }} as treatment_date
    from {{ ref('stg_synthea__procedures') }}
    union all by name
    select
        * exclude (performed_at),
        {{ clinic_date('performed_at') }} as treatment_date
    from {{ ref('stg_fhir__procedure') }}
)

select
    unioned.treatment_id,
    {{ surviving_patient_id('unioned') }} as patient_id,
    unioned.appointment_id,
    coalesce(unioned.provider_id, appointments.provider_id) as provider_id,
    unioned.code_system,
    unioned.code,
    unioned.description,
    unioned.treatment_date,
    nullif(unioned.outcome, '') as outcome,
    {{ related_record_exclusion('patients') }} as exclusion_rule,
    unioned.source_format,
    'treatments' as source_entity,
    1 as source_rows,
    unioned._source_file,
    unioned._source_row
from unioned
{{ join_surviving_patient('unioned') }}
left join {{ ref('int_appointments_unioned') }} as appointments on unioned.appointment_id = appointments.appointment_id
