{{ config(severity='warn', store_failures=true) }}
-- Documents over the attachment size limit: sent as a link (Attachment_URL), never dropped.
select
    Clinic_Document_Id,
    Parent_Id,
    Size_Bytes,
    Attachment_URL
from {{ ref('zoho_attachments') }}
where Over_Size_Limit
