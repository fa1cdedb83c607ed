-- Records given a treatment so that Zoho's duplicate check refuses none of them, one row each (ids
-- only): patients whose shared e-mail went to Secondary_Email (int_patient_email_holders) and
-- clinics whose shared name was qualified (zoho_accounts). Read by the reconciliation report.
select
    'Contacts' as zoho_module,
    Clinic_Patient_Id as record_id,
    'email_in_secondary_email' as treatment
from {{ ref('zoho_contacts') }}
where Secondary_Email is not null
union all
select
    'Leads' as zoho_module,
    Clinic_Patient_Id as record_id,
    'email_in_secondary_email' as treatment
from {{ ref('zoho_leads') }}
where Secondary_Email is not null
union all
select
    'Accounts' as zoho_module,
    zoho_accounts.Clinic_Account_Id as record_id,
    'name_qualified' as treatment
from {{ ref('zoho_accounts') }} as zoho_accounts
inner join {{ ref('int_clinics') }} as int_clinics on zoho_accounts.Clinic_Account_Id = int_clinics.clinic_id
where zoho_accounts.Account_Name <> coalesce(int_clinics.clinic_name, int_clinics.clinic_id)
