-- Accounts: the clinic organisation(s) — the clinics of the generic export, Synthea
-- organizations, FHIR Organization resources.
-- Zoho checks Account_Name for duplicates on insert (its default duplicate-check field), so clinics
-- sharing a name (compared lower-cased and trimmed, as Zoho does) would all but one be refused with
-- every record under them. Each of them gets its name qualified by its city, "Name (City)" (by its
-- id when it has no city), and by both where that is still shared, "Name (City, id)": the same names
-- whatever the load order.
with

clinics as (
    select
        *,
        coalesce(clinic_name, clinic_id) as plain_name,
        count(*) over (partition by lower(trim(coalesce(clinic_name, clinic_id)))) as clinics_sharing_name
    from {{ ref('int_clinics') }}
    where exclusion_rule is null
),

by_city as (
    select
        *,
        case
            when clinics_sharing_name > 1
                then concat(plain_name, ' (', coalesce(nullif(trim(city), ''), clinic_id), ')')
            else plain_name
        end as city_name
    from clinics
),

named as (
    select
        *,
        case
            when clinics_sharing_name > 1 and count(*) over (partition by lower(trim(city_name))) > 1
                then concat(plain_name, ' (', concat_ws(', ', nullif(trim(city), ''), clinic_id), ')')
            else city_name
        end as qualified_name
    from by_city
)

select
    clinic_id as Clinic_Account_Id,
    qualified_name as Account_Name,
    'Clinic' as Account_Type,
    phone as Phone,
    website as Website,
    address_line as Billing_Street,
    city as Billing_City,
    state as Billing_State,
    postal_code as Billing_Code
{{ clinic_extra_columns('named') }}
from named
