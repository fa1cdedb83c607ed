-- Leads: patients whose status is Prospect or Referral Inquiry and who have no visit
-- (patient_status_map says which statuses; a visit makes them Contacts). A Lead sharing an e-mail
-- with a Contact or another Lead may get it in Secondary_Email instead (int_patient_email_holders).
-- The primary provider owns the Lead, as for Contacts (zoho_contacts.sql).
-- Company, which Zoho's standard Leads layout makes mandatory and no clinic export holds for a
-- patient, is the rule a person confirmed in the mapping (`layout_mandatory:`; macro
-- layout_mandatory_columns): NULL until confirmed, and the load's layout gate stops on it.
select
    patients.patient_id as Clinic_Patient_Id,
    patients.first_name as First_Name,
    coalesce(patients.last_name, '(no last name)') as Last_Name,
    case when coalesce(email_holders.holds_email, true) then {{ valid_email('patients.email') }} end as Email,
    case when not email_holders.holds_email then {{ valid_email('patients.email') }} end as Secondary_Email,
    email_holders.patient_id is not null as Shared_Email,
    patients.phone as Phone,
    patients.zoho_lead_status as Lead_Status,
    patients.zoho_patient_status as Patient_Status,
    referral_map.Referral_Source,
    patients.email_opt_out as Email_Opt_Out,
    patients.sms_opt_out as SMS_Opt_Out,
    contact_methods.Preferred_Contact_Method,
    owners.Email as Owner
{{ layout_mandatory_columns() }}
{{ clinic_extra_columns('patients') }}
from {{ ref('int_patients') }} as patients
left join {{ ref('referral_source_map') }} as referral_map on patients.referral_source_value = referral_map.source_value
left join {{ ref('contact_method_map') }} as contact_methods
    on patients.contact_method_value = contact_methods.source_method
left join {{ ref('int_patient_email_holders') }} as email_holders on patients.patient_id = email_holders.patient_id
left join {{ ref('zoho_users_resolution') }} as owners on patients.primary_provider_id = owners.provider_id
where patients.exclusion_rule is null and patients.zoho_module = 'Leads'
