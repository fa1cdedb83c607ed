with

source as (
    select *
    from
        {{ mapped_source('generic', 'program_enrollments', [
            'enrollment_id', 'program_id', 'patient_id', 'enrolled_on', 'role'
        ]) }}
),

renamed as (
    select
        enrollment_id,
        program_id,
        patient_id,
        {{ parse_as('enrolled_on', 'date') }} as enrolled_on,
        role as enrollment_role,
        {{ lineage_columns('generic') }}
    from source
    {{ latest_version('enrollment_id') }}
)

select * from renamed
