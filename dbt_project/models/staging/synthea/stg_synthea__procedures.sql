with

source as (
    select *
    from
        {{ source_or_empty('synthea', 'procedures', [
            'start', 'stop', 'patient', 'encounter', 'code', 'description',
            'reasondescription'
        ]) }}
),

renamed as (
    select
        -- Synthea procedures have no id: the patient, encounter, code and start identify one
        md5(concat_ws('|', patient, encounter, code, start)) as treatment_id,
        patient as patient_id,
        encounter as appointment_id,
        'SNOMED-CT' as code_system,
        code,
        description,
        {{ parse_as('start', 'timestamptz') }} as performed_at,
        reasondescription as reason,
        {{ lineage_columns('synthea') }}
    from source
    {{ latest_version('patient, encounter, code, start') }}
)

select * from renamed
