{#- A patient as a Zoho person, the same on a Contact and a Lead, from int_patients as `patients`
    and int_patient_email_holders as `email_holders`: key, names, phone and e-mail. Of patients
    sharing an e-mail, one holds it in Email and the others get it in Secondary_Email, as Zoho's
    duplicate check lets them land; Shared_Email says it is shared. -#}
{% macro patient_person_columns() -%}
    patients.patient_id as Clinic_Patient_Id,
    patients.first_name as First_Name,
    coalesce(patients.last_name, '(no last name)') as Last_Name,
    case when coalesce(email_holders.holds_email, true) then {{ valid_email('patients.email') }} end as Email,
    case when not email_holders.holds_email then {{ valid_email('patients.email') }} end as Secondary_Email,
    email_holders.patient_id is not null as Shared_Email,
    patients.phone as Phone
{%- endmacro %}
