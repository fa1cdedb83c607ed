-- Patients going to Zoho who share one e-mail address, and which of them holds it in Email.
-- Zoho checks Email for duplicates on insert (the default duplicate-check field of Contacts and of
-- Leads; an org may also make it unique), so only one record may carry an address: the others
-- would be refused (DUPLICATE_DATA) with every record under them. Families sharing an address are
-- ordinary in a clinic, so the others keep the address in Secondary_Email with Shared_Email checked.
-- The holder is decided here, never by load order:
--   1. a Contact before a Lead: a Lead converts into a Contact, and Zoho's Leads duplicate-check
--      preference can check Leads against Contacts, so a Lead never takes a Contact's address;
--   2. the oldest patient (earliest birth date, unknown last): the parent of a family;
--   3. the smallest patient id.
-- Addresses compare lower-cased and trimmed (int_patients), as Zoho's duplicate check does.
with

patients as (
    select
        patient_id,
        zoho_module,
        birth_date,
        {{ valid_email('email') }} as email
    from {{ ref('int_patients') }}
    where exclusion_rule is null and zoho_module in ('Contacts', 'Leads')
),

ranked as (
    select
        patient_id,
        zoho_module,
        email,
        count(*) over (partition by email) as patients_sharing,
        first_value(patient_id) over (
            partition by email
            order by case zoho_module when 'Contacts' then 0 else 1 end, birth_date asc nulls last, patient_id asc
        ) as email_holder_id
    from patients
    where email is not null
)

select
    patient_id,
    zoho_module,
    patients_sharing,
    email_holder_id,
    patient_id = email_holder_id as holds_email
from ranked
where patients_sharing > 1
