-- Contacts: active patients and patients with visits. Inactive and deceased patients are kept
-- as archived Contacts (Patient_Status and the Archived checkbox), never dropped. The referral source
-- goes to the Referral_Source pick-list through the referral_source_map seed. Patients sharing an
-- e-mail: one holds it in Email, the others get it in Secondary_Email (int_patient_email_holders).
-- Communication consent: Zoho's Email_Opt_Out, the custom SMS_Opt_Out checkbox and the
-- Preferred_Contact_Method pick-list through the contact_method_map seed (empty when unmapped).
-- The patient's primary provider owns the Contact: the provider's e-mail (the clinic's override, else
-- the export's; zoho_users_resolution), resolved to a user of the org at load time like an Event's
-- owner; no primary provider leaves the loading user as owner.
with

patients as (
    select * from {{ ref('int_patients') }}
    where exclusion_rule is null and zoho_module = 'Contacts'
)

select
    patients.patient_id as Clinic_Patient_Id,
    patients.first_name as First_Name,
    coalesce(patients.last_name, '(no last name)') as Last_Name,
    case when coalesce(email_holders.holds_email, true) then {{ valid_email('patients.email') }} end as Email,
    case when not email_holders.holds_email then {{ valid_email('patients.email') }} end as Secondary_Email,
    email_holders.patient_id is not null as Shared_Email,
    patients.phone as Phone,
    {{ zoho_date('patients.birth_date') }} as Date_of_Birth,
    patients.address_line as Mailing_Street,
    patients.city as Mailing_City,
    patients.state as Mailing_State,
    patients.postal_code as Mailing_Zip,
    clinic_accounts.Clinic_Account_Id as Account_Name,
    patients.zoho_patient_status as Patient_Status,
    {{ zoho_date('patients.deceased_date') }} as Date_of_Death,
    patients.is_archived as Archived,
    referral_map.Referral_Source,
    patients.email_opt_out as Email_Opt_Out,
    patients.sms_opt_out as SMS_Opt_Out,
    contact_methods.Preferred_Contact_Method,
    owners.Email as Owner
{{ clinic_extra_columns('patients') }}
from patients
left join {{ ref('zoho_accounts') }} as clinic_accounts on patients.clinic_id = clinic_accounts.Clinic_Account_Id
left join {{ ref('referral_source_map') }} as referral_map on patients.referral_source_value = referral_map.source_value
left join {{ ref('contact_method_map') }} as contact_methods
    on patients.contact_method_value = contact_methods.source_method
left join {{ ref('int_patient_email_holders') }} as email_holders on patients.patient_id = email_holders.patient_id
left join {{ ref('zoho_users_resolution') }} as owners on patients.primary_provider_id = owners.provider_id
