-- Clinical notes of every format as plain text: HTML and RTF are converted by note_to_text, a
-- DuckDB function the project registers (clinic2zoho.transform.duckdb_functions). FHIR
-- DocumentReference notes name their author by NPI. Notes follow their patient to a Contact or a
-- Lead (Zoho notes may hang on either).
with

fhir_notes as (
    select
        notes.* exclude (provider_npi),  -- noqa: RF02
        practitioner.provider_id
    from {{ ref('stg_fhir__documentreference') }} as notes
    left join {{ ref('stg_fhir__practitioner') }} as practitioner on notes.provider_npi = practitioner.npi
),

unioned as (
    select * from {{ ref('stg_generic__clinical_notes') }}
    union all by name
    select * from fhir_notes
)

select
    unioned.note_id,
    {{ surviving_patient_id('unioned') }} as patient_id,
    patients.zoho_module as parent_module,
    unioned.appointment_id,
    unioned.provider_id,
    unioned.noted_at,
    {{ clinic_date('unioned.noted_at') }} as note_date,
    coalesce(nullif(trim(unioned.note_type), ''), 'Note') as note_type,
    unioned.content_format,
    note_to_text(unioned.content, unioned.content_format) as note_text,
    {{ related_record_exclusion('patients', leads_allowed=true) }} as exclusion_rule,
    unioned.source_format,
    'clinical_notes' as source_entity,
    1 as source_rows,
    unioned._source_file,
    unioned._source_row
from unioned
{{ join_surviving_patient('unioned') }}
