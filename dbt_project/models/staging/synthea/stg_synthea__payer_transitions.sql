with

source as (
    select *
    from
        {{ source_or_empty('synthea', 'payer_transitions', [
            'patient', 'memberid', 'start_year', 'end_year', 'payer', 'secondary_payer',
            'ownership'
        ]) }}
),

renamed as (
    select
        patient as patient_id,
        memberid as member_id,
        {{ parse_as('start_year', 'timestamptz') }} as starts_at,
        {{ parse_as('end_year', 'timestamptz') }} as ends_at,
        payer as payer_id,
        secondary_payer as secondary_payer_id,
        ownership,
        {{ lineage_columns('synthea') }}
    from source
    {{ latest_version('patient, start_year, payer') }}
)

select * from renamed
