-- Accounts: the clinic organisation(s) — the clinics of the generic export, Synthea
-- organizations, FHIR Organization resources.
select
    clinic_id as Clinic_Account_Id,
    coalesce(clinic_name, clinic_id) as Account_Name,
    'Clinic' as Account_Type,
    phone as Phone,
    website as Website,
    address_line as Billing_Street,
    city as Billing_City,
    state as Billing_State,
    postal_code as Billing_Code
{{ clinic_extra_columns('int_clinics') }}
from {{ ref('int_clinics') }}
where exclusion_rule is null
