-- Appointments of every format, pointed at the surviving patient of a confirmed duplicate.
-- FHIR encounters name their practitioner by NPI: resolved to the practitioner's id here.
with

fhir_encounters as (
    select
        encounter.* exclude (provider_npi),  -- noqa: RF02
        practitioner.provider_id
    from {{ ref('stg_fhir__encounter') }} as encounter
    left join {{ ref('stg_fhir__practitioner') }} as practitioner on encounter.provider_npi = practitioner.npi
),

unioned as (
    select * from {{ ref('stg_generic__appointments') }}
    union all by name
    select * from {{ ref('stg_synthea__encounters') }}
    union all by name
    select * from fhir_encounters
)

select
    unioned.appointment_id,
    {{ surviving_patient_id('unioned') }} as patient_id,
    unioned.patient_id as source_patient_id,
    unioned.provider_id,
    unioned.clinic_id,
    coalesce(unioned.visit_date, {{ clinic_date('unioned.starts_at') }}) as visit_date,
    unioned.starts_at,
    -- an encounter with a start and no end is shown as a point in time
    coalesce(unioned.ends_at, unioned.starts_at) as ends_at,
    unioned.appointment_type,
    coalesce(unioned.reason, unioned.visit_description) as reason,
    unioned.visit_description,
    lower(unioned.outcome) as outcome,
    unioned.source_format,
    unioned._source_file,
    unioned._source_row
from unioned
left join {{ ref('int_patient_merges') }} as patient_merges on unioned.patient_id = patient_merges.duplicate_patient_id
