{{ config(severity='warn', store_failures=true) }}
-- Records whose owner column is empty load owned by the loading user (docs/contracts.md): the
-- visit, treatment or care program names no provider, or one missing from the export.
with

owned as (
    select
        'Events' as module,
        Clinic_Appointment_Id as record_id,
        Owner as owner_email
    from {{ ref('zoho_events') }}
    union all
    select
        'Tasks' as module,
        Clinic_Appointment_Id as record_id,
        Owner as owner_email
    from {{ ref('zoho_tasks') }}
    union all
    select
        'Treatments' as module,
        Clinic_Treatment_Id as record_id,
        Owner as owner_email
    from {{ ref('zoho_treatments') }}
    union all
    select
        'Care_Programs' as module,
        Clinic_Care_Program_Id as record_id,
        Owner as owner_email
    from {{ ref('zoho_care_programs') }}
)

select
    module,
    record_id
from owned
where owner_email is null
order by module, record_id
