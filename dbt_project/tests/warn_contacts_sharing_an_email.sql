{{ config(severity='warn', store_failures=true) }}
-- Patients (Contacts and Leads) sharing one e-mail address, and what they get in Zoho. Zoho checks
-- Email for duplicates on insert, so one of them keeps it in Email (int_patient_email_holders: a
-- Contact before a Lead, then the oldest, then the smallest patient id) and the others get it in
-- Secondary_Email, all with Shared_Email checked: nobody is refused. Review the list: a pair that is
-- one person twice is merged instead (patient_merges_file). Ids only (no e-mail in logs).
select
    holders.email_holder_id as email_kept_by,
    count(*) as patients,
    string_agg(distinct holders.zoho_module, ', ' order by holders.zoho_module) as zoho_modules,
    string_agg(holders.patient_id, ', ' order by holders.patient_id) filter (
        where not holders.holds_email
    ) as secondary_email_for,
    'Email kept by ' || holders.email_holder_id
    || '; the others get it in Secondary_Email, Shared_Email checked' as treatment
from {{ ref('int_patient_email_holders') }} as holders
group by holders.email_holder_id
