-- Communications (custom module): e-mails, SMS, letters and portal messages, which Zoho's API
-- cannot insert as sent mail, with their original time (clinic offset), direction, subject and
-- text as fields, looked up from the patient's Contact or Lead (one of the two lookups filled).
-- The name reads in time order on the related list: "2024-03-14 09:30 SMS outbound".
with

communications as (
    select
        *,
        case channel
            when 'email' then 'Email'
            when 'sms' then 'SMS'
            when 'letter' then 'Letter'
            when 'portal' then 'Portal'
        end as channel_label
    from {{ ref('int_communications') }}
    where exclusion_rule is null and zoho_module = 'Communications'
)

select
    communications.communication_id as Clinic_Communication_Id,
    concat_ws(
        ' ',
        strftime(timezone('{{ var("clinic_timezone") }}', communications.started_at), '%Y-%m-%d %H:%M'),
        communications.channel_label,
        communications.direction
    ) as Name,
    communications.channel_label as Channel,
    case communications.direction when 'inbound' then 'Inbound' when 'outbound' then 'Outbound' end as Direction,
    {{ zoho_datetime('communications.started_at') }} as Sent_At,
    left(communications.subject, 255) as Subject,
    communications.body as Body,
    case communications.outcome
        when 'answered' then 'Answered'
        when 'no_answer' then 'No Answer'
        when 'voicemail' then 'Voicemail'
        when 'delivered' then 'Delivered'
        when 'read' then 'Read'
        when 'bounced' then 'Bounced'
    end as Outcome,
    case when communications.parent_module = 'Contacts' then communications.patient_id end as Contact,
    case when communications.parent_module = 'Leads' then communications.patient_id end as Lead,
    owners.Email as Owner
{{ clinic_extra_columns('communications') }}
from communications
left join {{ ref('zoho_users_resolution') }} as owners on communications.provider_id = owners.provider_id
