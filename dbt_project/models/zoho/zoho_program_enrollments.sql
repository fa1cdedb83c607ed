-- Program_Enrollments: the junction module for the many-to-many between Contacts and
-- Care_Programs, one lookup to each.
select
    enrollment_id as Clinic_Program_Enrollment_Id,
    concat('Enrollment ', enrollment_id) as Name,
    program_id as Care_Program,
    patient_id as Patient,
    {{ zoho_date('enrolled_on') }} as Enrolled_On,
    {{ picklist_spelling('enrollment_role', 'Program_Enrollments', 'Role') }} as Role
{{ clinic_extra_columns('int_program_enrollments') }}
from {{ ref('int_program_enrollments') }}
where exclusion_rule is null
