{#- Whether a record related to a patient can follow that patient into Zoho. `patients` is the
    joined int_patients row (by the surviving patient id). Records of Leads can only go where Zoho
    allows a Lead parent (notes, attachments). -#}
{% macro related_record_exclusion(patients, leads_allowed=false) -%}
    case
        when {{ patients }}.patient_id is null then 'unknown_patient'
    {%- if not leads_allowed %}
        when {{ patients }}.zoho_module = 'Leads' then 'patient_is_a_lead'
    {%- endif %}
    end
{%- endmacro %}

{#- The patient a related record follows: the surviving patient when the clinic merged a confirmed
    duplicate (int_patient_merges), else the one the record names. `records` is the related
    records' alias; the joins are `join_surviving_patient`'s. -#}
{% macro surviving_patient_id(records) -%}
    coalesce(patient_merges.surviving_patient_id, {{ records }}.patient_id)
{%- endmacro %}

{#- The joins behind surviving_patient_id and related_record_exclusion: the merge (as
    `patient_merges`) and the surviving patient's loadable int_patients row (as `patients`; no row
    when that patient is unknown or excluded). -#}
{% macro join_surviving_patient(records) -%}
    left join {{ ref('int_patient_merges') }} as patient_merges
        on {{ records }}.patient_id = patient_merges.duplicate_patient_id
    left join {{ ref('int_patients') }} as patients
        on
            {{ surviving_patient_id(records) }} = patients.patient_id
            and patients.exclusion_rule is null
{%- endmacro %}
