-- Patients in care programs: a many-to-many relation, loaded as the junction module
-- Program_Enrollments (one lookup to the Contact, one to the Care Program).
select
    enrollments.enrollment_id,
    enrollments.program_id,
    coalesce(patient_merges.surviving_patient_id, enrollments.patient_id) as patient_id,
    enrollments.enrolled_on,
    enrollments.enrollment_role,
    coalesce(
        case when programs.program_id is null then 'unknown_care_program' end,
        {{ related_record_exclusion('patients') }}
    ) as exclusion_rule,
    enrollments.source_format,
    'program_enrollments' as source_entity,
    1 as source_rows,
    enrollments._source_file,
    enrollments._source_row
from {{ ref('stg_generic__program_enrollments') }} as enrollments
left join
    {{ ref('int_patient_merges') }} as patient_merges
    on enrollments.patient_id = patient_merges.duplicate_patient_id
left join {{ ref('stg_generic__care_programs') }} as programs on enrollments.program_id = programs.program_id
left join {{ ref('int_patients') }} as patients
    on
        coalesce(patient_merges.surviving_patient_id, enrollments.patient_id) = patients.patient_id
        and patients.exclusion_rule is null
