-- Billing_History (custom module): every claim, with service date, amounts, payer (name, and
-- id where the export names payers by id, as Synthea does) and the claim status pick-list
-- (claim_status_map seed).
select
    claims.claim_id as Clinic_Claim_Id,
    concat('Claim ', claims.claim_id) as Name,
    claims.patient_id as Contact,
    {{ zoho_date('claims.service_date') }} as Service_Date,
    claims.cpt_code as Procedure_Code,
    claims.amount_billed as Amount,
    claims.amount_paid as Amount_Paid,
    claims.balance as Balance,
    claims.payer_name as Payer,
    claims.payer_id as Payer_Id,
    coalesce(statuses.Claim_Status, claims.claim_status) as Claim_Status
{{ clinic_extra_columns('claims') }}
from {{ ref('int_claims') }} as claims
left join {{ ref('claim_status_map') }} as statuses on claims.claim_status = statuses.source_status
where claims.exclusion_rule is null
