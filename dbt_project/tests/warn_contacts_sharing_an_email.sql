{{ config(severity='warn', store_failures=true) }}
-- Patients who would go to Zoho with an e-mail another patient of the same module has: Zoho checks
-- Email for duplicates on insert, so all but the first of them to land are refused (DUPLICATE_DATA)
-- and the records under them with it. Confirm such pairs as merges (patient_merges_file) or
-- correct the e-mail before the load. Only ids are listed (no e-mail in logs).
with

emails as (
    select
        'Contacts' as zoho_module,
        Clinic_Patient_Id,
        lower(Email) as email
    from {{ ref('zoho_contacts') }}
    where Email is not null
    union all
    select
        'Leads' as zoho_module,
        Clinic_Patient_Id,
        lower(Email) as email
    from {{ ref('zoho_leads') }}
    where Email is not null
)

select
    zoho_module,
    count(*) as patients,
    string_agg(Clinic_Patient_Id, ', ' order by Clinic_Patient_Id) as patient_ids
from emails
group by zoho_module, email
having count(*) > 1
