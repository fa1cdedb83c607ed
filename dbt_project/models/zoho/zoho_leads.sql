-- Leads: patients whose status is Prospect or Referral Inquiry and who have no visit
-- (patient_status_map says which statuses; a visit makes them Contacts).
select
    patients.patient_id as Clinic_Patient_Id,
    patients.first_name as First_Name,
    coalesce(patients.last_name, '(no last name)') as Last_Name,
    {{ valid_email('patients.email') }} as Email,
    patients.phone as Phone,
    patients.zoho_lead_status as Lead_Status,
    patients.zoho_patient_status as Patient_Status,
    referral_map.Referral_Source
{{ clinic_extra_columns('patients') }}
from {{ ref('int_patients') }} as patients
left join {{ ref('referral_source_map') }} as referral_map on patients.referral_source_value = referral_map.source_value
where patients.exclusion_rule is null and patients.zoho_module = 'Leads'
