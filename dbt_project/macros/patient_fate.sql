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
