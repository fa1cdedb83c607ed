-- FHIR R4 Communication: the channel from medium (v3 ParticipationMode: PHONE, EMAILWRIT,
-- MAILWRIT, ONLINEWRIT; SMS named in the coding's code, display or text), the direction from who
-- sent it (a Patient sender is inbound), sent (else received) as the instant, topic or category
-- as the subject, the first contentString as the body. FHIR carries no call duration.
with

source as (
    {{ fhir_resources('communication') }}
),

fields as (
    select
        resource_id,
        resource,
        lower(concat_ws(
            ' ', resource ->> '$.medium[0].coding[0].code', resource ->> '$.medium[0].coding[0].display',
            resource ->> '$.medium[0].text'
        )) as medium,
        coalesce(resource ->> '$.sender.reference', '') as sender,
        coalesce(resource ->> '$.recipient[0].reference', '') as recipient,
        _source_file,
        _source_row,
        _loaded_at
    from source
    {{ latest_version('resource_id') }}
),

renamed as (
    select
        resource_id as communication_id,
        replace(resource ->> '$.subject.reference', 'Patient/', '') as patient_id,
        -- the staff member: the practitioner who sent it, else the one it went to
        case
            when sender like 'Practitioner/%' then replace(sender, 'Practitioner/', '')
            when recipient like 'Practitioner/%' then replace(recipient, 'Practitioner/', '')
        end as provider_ref,
        regexp_extract(
            case when sender like 'Practitioner?%' then sender else recipient end, 'Practitioner[?].*\|([^|]+)$', 1
        ) as provider_npi,
        case
            when regexp_matches(medium, '\bsms\b|text message') then 'sms'
            when regexp_matches(medium, '\bphone\b|telephone|\bverbal\b') then 'phone'
            when regexp_matches(medium, 'emailwrit|e-?mail') then 'email'
            when regexp_matches(medium, 'onlinewrit|portal') then 'portal'
            when regexp_matches(medium, 'mailwrit|handwrit|typewrit|\bwritten\b|letter|\bpost\b') then 'letter'
            else nullif(trim(medium), '')
        end as channel,
        case
            when sender like 'Patient%' or sender like 'RelatedPerson%' then 'inbound' else 'outbound'
        end as direction,
        {{ parse_as("coalesce(resource ->> '$.sent', resource ->> '$.received')", 'timestamptz') }} as started_at,
        cast(null as bigint) as duration_seconds,
        coalesce(
            resource ->> '$.topic.text', resource ->> '$.topic.coding[0].display',
            resource ->> '$.category[0].text', resource ->> '$.category[0].coding[0].display'
        ) as subject,
        resource ->> '$.payload[0].contentString' as body,
        resource ->> '$.status' as status,
        _source_file,
        _source_row,
        _loaded_at
    from fields
),

with_outcome as (
    select
        * exclude (status),
        case
            when status = 'completed' and channel = 'phone' then 'answered'
            when status = 'completed' then 'delivered'
            when status = 'not-done' and channel = 'phone' then 'no_answer'
            when status = 'not-done' then 'bounced'
        end as outcome,
        'fhir' as source_format
    from renamed
)

select * from with_outcome
