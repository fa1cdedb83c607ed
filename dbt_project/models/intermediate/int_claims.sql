-- Claims of every format. Synthea claims get their amounts from their transactions (charges
-- billed, payments paid) and their payer's name from payers.csv; the payer id is kept.
with

synthea_amounts as (
    select
        claim_id,
        sum(case when transaction_type = 'CHARGE' then amount else 0 end) as amount_billed,
        sum(case when transaction_type = 'PAYMENT' then payments else 0 end) as amount_paid,
        min(case when transaction_type = 'CHARGE' then procedure_code end) as cpt_code,
        count(*) as transaction_rows
    from {{ ref('stg_synthea__claims_transactions') }}
    group by claim_id
),

synthea_claims as (
    select
        claims.claim_id,
        claims.patient_id,
        claims.appointment_id,
        claims.provider_id,
        {{ clinic_date('claims.serviced_at') }} as service_date,
        amounts.cpt_code,
        coalesce(amounts.amount_billed, 0) as amount_billed,
        coalesce(amounts.amount_paid, 0) as amount_paid,
        claims.balance,
        claims.payer_id,
        payers.payer_name,
        lower(claims.primary_status) as claim_status,
        coalesce(amounts.transaction_rows, 0) as transaction_rows,
        claims.source_format,
        claims._source_file,
        claims._source_row
    from {{ ref('stg_synthea__claims') }} as claims
    left join synthea_amounts as amounts on claims.claim_id = amounts.claim_id
    left join {{ ref('stg_synthea__payers') }} as payers on claims.payer_id = payers.payer_id
),

unioned as (
    select * from {{ ref('stg_generic__claims') }}
    union all by name
    select * from synthea_claims
)

select
    unioned.claim_id,
    {{ surviving_patient_id('unioned') }} as patient_id,
    unioned.appointment_id,
    unioned.provider_id,
    unioned.service_date,
    unioned.cpt_code,
    unioned.amount_billed,
    unioned.amount_paid,
    unioned.balance,
    unioned.payer_id,
    unioned.payer_name,
    unioned.claim_status,
    unioned.transaction_rows,
    {{ related_record_exclusion('patients') }} as exclusion_rule,
    unioned.source_format,
    'claims' as source_entity,
    1 as source_rows,
    unioned._source_file,
    unioned._source_row
from unioned
{{ join_surviving_patient('unioned') }}
