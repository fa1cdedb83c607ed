-- Invoices: claims with an outstanding balance above zero. One Invoiced_Items line on the
-- "Clinic services" product for the balance, as JSON text the loader sends as the subform
-- (the product is looked up by name in the org being loaded).
select
    claim_id as Clinic_Claim_Id,
    concat('Claim ', claim_id, coalesce(concat(' - ', cpt_code), '')) as Subject,
    patient_id as Contact_Name,
    {{ zoho_date('service_date') }} as Invoice_Date,
    balance as Grand_Total,
    cast(json_array(json_object(
        'Product_Name', json_object('name', 'Clinic services'),
        'Quantity', 1,
        'List_Price', balance,
        'Description', coalesce(concat('Service ', cpt_code), 'Clinic services')
    )) as varchar) as Invoiced_Items
{{ clinic_extra_columns('int_claims') }}
from {{ ref('int_claims') }}
where exclusion_rule is null and balance > 0
