{{ config(severity='warn', store_failures=true) }}
-- Clinics sharing a name (case and blanks ignored), which Zoho's duplicate check on Account_Name
-- would refuse but one of: zoho_accounts qualifies each of their names by city (by id when it has
-- none), and by both where that is still shared. Listed by clinic id, with how each was qualified.
with

named_clinics as (
    select
        clinic_id,
        lower(trim(coalesce(clinic_name, clinic_id))) as name_key
    from {{ ref('int_clinics') }}
    where exclusion_rule is null
),

shared_names as (
    select name_key
    from named_clinics
    group by name_key
    having count(*) > 1
),

treated as (
    select
        named_clinics.clinic_id,
        named_clinics.name_key,
        case
            when zoho_accounts.Account_Name like '%, ' || named_clinics.clinic_id || ')' then 'city and id'
            when zoho_accounts.Account_Name like '% (' || named_clinics.clinic_id || ')' then 'id'
            else 'city'
        end as qualified_by
    from named_clinics
    inner join shared_names on named_clinics.name_key = shared_names.name_key
    inner join {{ ref('zoho_accounts') }} as zoho_accounts on named_clinics.clinic_id = zoho_accounts.Clinic_Account_Id
)

select
    min(clinic_id) as first_clinic_id,
    count(*) as clinics,
    string_agg(clinic_id || ' (' || qualified_by || ')', ', ' order by clinic_id) as account_name_qualified_by
from treated
group by name_key
