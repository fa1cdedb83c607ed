with

source as (
    select *
    from
        {{ source_or_empty('synthea', 'claims', [
            'id', 'patientid', 'providerid', 'primarypatientinsuranceid',
            'secondarypatientinsuranceid', 'appointmentid', 'servicedate', 'status1',
            'status2', 'statusp', 'outstanding1', 'outstanding2', 'outstandingp'
        ]) }}
),

renamed as (
    select
        id as claim_id,
        patientid as patient_id,
        providerid as provider_id,
        appointmentid as appointment_id,
        -- Synthea's claims name the payer by id (payers.csv holds the names)
        nullif(primarypatientinsuranceid, '0') as payer_id,
        nullif(secondarypatientinsuranceid, '0') as secondary_payer_id,
        {{ parse_as('servicedate', 'timestamptz') }} as serviced_at,
        status1 as primary_status,
        statusp as patient_status,
        coalesce({{ parse_as('outstanding1', 'amount') }}, 0)
        + coalesce({{ parse_as('outstanding2', 'amount') }}, 0)
        + coalesce({{ parse_as('outstandingp', 'amount') }}, 0) as balance,
        {{ lineage_columns('synthea') }}
    from source
    {{ latest_version('id') }}
)

select * from renamed
