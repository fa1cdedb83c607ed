with

source as (
    select *
    from
        {{ mapped_source('generic', 'insurance_plans', [
            'plan_id', 'patient_id', 'priority', 'carrier', 'policy_number', 'group_id',
            'coverage_type', 'subscriber_name', 'effective_date', 'termination_date'
        ]) }}
),

renamed as (
    select
        plan_id,
        patient_id,
        lower(priority) as priority,
        carrier,
        policy_number,
        group_id,
        coverage_type,
        {{ parse_as('effective_date', 'date') }} as effective_date,
        {{ parse_as('termination_date', 'date') }} as termination_date,
        {{ lineage_columns('generic') }}
    from source
    {{ latest_version('plan_id') }}
)

select * from renamed
