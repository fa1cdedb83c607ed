-- Care_Programs (custom module for the clinic's custom object), owned by the coordinator.
select
    programs.program_id as Clinic_Care_Program_Id,
    programs.program_name as Name,
    programs.description as Description,
    {{ zoho_date('programs.start_date') }} as Start_Date,
    owners.Email as Owner
{{ clinic_extra_columns('programs') }}
from {{ ref('int_care_programs') }} as programs
left join {{ ref('zoho_users_resolution') }} as owners on programs.coordinator_provider_id = owners.provider_id
where programs.exclusion_rule is null
