{{ config(store_failures=true) }}
-- No two records going to Zoho carry the same value in Zoho's default duplicate-check field (Email
-- on Contacts and Leads, a Lead's Email not a Contact's either; Account_Name on Accounts), compared
-- as Zoho compares (case and blanks ignored): Zoho would refuse all but the first to land, with the
-- records under it. The treatments of int_patient_email_holders and zoho_accounts keep this empty.
with

checked as (
    {%- for people in ['zoho_contacts', 'zoho_leads'] %}
        select
            'Contacts, Leads' as zoho_modules,
            'Email' as field_name,
            Clinic_Patient_Id as record_id,
            lower(trim(Email)) as checked_value
        from {{ ref(people) }}
        where Email is not null
        union all
    {%- endfor %}
    select
        'Accounts' as zoho_modules,
        'Account_Name' as field_name,
        Clinic_Account_Id as record_id,
        lower(trim(Account_Name)) as checked_value
    from {{ ref('zoho_accounts') }}
)

select
    zoho_modules,
    field_name,
    count(*) as records,
    string_agg(record_id, ', ' order by record_id) as record_ids
from checked
group by zoho_modules, field_name, checked_value
having count(*) > 1
