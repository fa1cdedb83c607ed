-- Calls: the phone calls of the communication log, at their original start (ISO 8601 with the
-- clinic's UTC offset) and with their duration as Zoho writes it, minutes and seconds ("mm:ss").
-- An inbound call nobody answered (no answer, or left on the voicemail) is Missed. Owned by the
-- staff member who called or answered (email resolved to a Zoho user at load time; empty: the
-- loading user). Who_Id is the patient; Parent_Module says whether that is a Contact or a Lead
-- (the loader puts a Lead in What_Id with $se_module).
select
    communications.communication_id as Clinic_Communication_Id,
    left(
        coalesce(
            communications.subject,
            case when communications.direction = 'inbound' then 'Inbound call' else 'Outbound call' end
        ),
        300
    ) as Subject,
    case
        when communications.direction = 'inbound' and communications.outcome in ('no_answer', 'voicemail')
            then 'Missed'
        when communications.direction = 'inbound' then 'Inbound'
        else 'Outbound'
    end as Call_Type,
    {{ zoho_datetime('communications.started_at') }} as Call_Start_Time,
    case
        when communications.duration_seconds >= 0
            then
                lpad(cast(communications.duration_seconds // 60 as varchar), 2, '0')
                || ':'
                || lpad(cast(communications.duration_seconds % 60 as varchar), 2, '0')
    end as Call_Duration,
    case communications.outcome
        when 'answered' then 'Answered'
        when 'no_answer' then 'No Answer'
        when 'voicemail' then 'Voicemail'
    end as Call_Result,
    communications.body as Description,
    communications.patient_id as Who_Id,
    communications.parent_module as Parent_Module,
    owners.Email as Owner
{{ clinic_extra_columns('communications') }}
from {{ ref('int_communications') }} as communications
left join {{ ref('zoho_users_resolution') }} as owners on communications.provider_id = owners.provider_id
where communications.exclusion_rule is null and communications.zoho_module = 'Calls'
