-- Patients in care programs: a many-to-many relation, loaded as the junction module
-- Program_Enrollments (one lookup to the Contact, one to the Care Program).
select
    enrollments.enrollment_id,
    enrollments.program_id,
    {{ surviving_patient_id('enrollments') }} as patient_id,
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
{{ join_surviving_patient('enrollments') }}
left join {{ ref('stg_generic__care_programs') }} as programs on enrollments.program_id = programs.program_id
