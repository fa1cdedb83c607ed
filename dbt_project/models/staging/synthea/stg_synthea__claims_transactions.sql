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
        cast(amount as decimal(14, 2)) as amount,
        cast(payments as decimal(14, 2)) as payments,
        cast(adjustments as decimal(14, 2)) as adjustments,
        procedurecode as procedure_code,
        cast(fromdate as timestamptz) as from_at,
        'synthea' as source_format,
        _source_file,
        _source_row,
        _loaded_at
    from source
    {{ latest_version('id') }}
)

select * from renamed
