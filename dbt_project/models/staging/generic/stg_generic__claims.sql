with

source as (
    select *
    from
        {{ mapped_source('generic', 'claims', [
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
        {{ parse_as('service_date', 'date') }} as service_date,
        cpt_code,
        {{ parse_as('amount_billed', 'amount') }} as amount_billed,
        {{ parse_as('amount_paid', 'amount') }} as amount_paid,
        {{ parse_as('balance', 'amount') }} as balance,
        cast(null as varchar) as payer_id,
        payer as payer_name,
        lower(status) as claim_status,
        {{ lineage_columns('generic') }}
    from source
    {{ latest_version('claim_id') }}
)

select * from renamed
