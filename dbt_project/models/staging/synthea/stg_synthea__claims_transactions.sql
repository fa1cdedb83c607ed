with

source as (
    select *
    from
        {{ source_or_empty('synthea', 'claims_transactions', [
            'id', 'claimid', 'patientid', 'type', 'amount', 'payments', 'adjustments',
            'procedurecode', 'fromdate'
        ]) }}
),

renamed as (
    select
        id as transaction_id,
        claimid as claim_id,
        patientid as patient_id,
        type as transaction_type,
        {{ parse_as('amount', 'amount') }} as amount,
        {{ parse_as('payments', 'amount') }} as payments,
        {{ parse_as('adjustments', 'amount') }} as adjustments,
        procedurecode as procedure_code,
        {{ parse_as('fromdate', 'timestamptz') }} as from_at,
        {{ lineage_columns('synthea') }}
    from source
    {{ latest_version('id') }}
)

select * from renamed
