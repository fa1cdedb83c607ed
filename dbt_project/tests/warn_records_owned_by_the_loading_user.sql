{{ config(severity='warn', store_failures=true) }}
-- Records whose owner column is empty load owned by the loading user (docs/architecture.md): the
-- visit, treatment or care program names no provider, or one missing from the export.
with

owned as (
    select 'Events' as module, Clinic_Appointment_Id as record_id, Owner from {{ ref('zoho_events') }}
    union all
    select 'Tasks', Clinic_Appointment_Id, Owner from {{ ref('zoho_tasks') }}
    union all
    select 'Treatments', Clinic_Treatment_Id, Owner from {{ ref('zoho_treatments') }}
    union all
    select 'Care_Programs', Clinic_Care_Program_Id, Owner from {{ ref('zoho_care_programs') }}
)

select
    module,
    record_id
from owned
where Owner is null
order by module, record_id
