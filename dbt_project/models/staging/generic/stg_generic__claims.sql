with

source as (
    select *
    from
        {{ source_or_empty('generic', 'claims', [
            'claim_id', 'patient_id', 'appointment_id', 'provider_id', 'service_date',
            'cpt_code', 'amount_billed', 'amount_paid', 'balance', 'payer', 'status',
            'submitted_at'
        ]) }}
),

renamed as (
    select
        claim_id,
        patient_id,
        appointment_id,
        provider_id,
        try_cast(service_date as date) as service_date,
        cpt_code,
        try_cast(amount_billed as decimal(14, 2)) as amount_billed,
        try_cast(amount_paid as decimal(14, 2)) as amount_paid,
        try_cast(balance as decimal(14, 2)) as balance,
        cast(null as varchar) as payer_id,
        payer as payer_name,
        lower(status) as claim_status,
        'generic' as source_format,
        _source_file,
        _source_row,
        _loaded_at
    from source
    {{ latest_version('claim_id') }}
)

select * from renamed
