-- Attachments: documents on their patient's Contact or Lead. The file name starts with the
-- document id, so a resumed load recognises files already sent. Documents over the size limit
-- (var attachment_max_bytes) are flagged and attached as a link (Attachment_URL) to where the clinic
-- publishes them: var document_url_base + the document's path in the export. Without that var (or
-- for a path that is absolute or climbs out of the export) there is no link: the loader rejects
-- such a document naming the var, never drops it.
select
    document_id as Clinic_Document_Id,
    concat(document_id, '_', coalesce(file_name, 'document')) as File_Name,
    patient_id as Parent_Id,
    parent_module as Parent_Module,
    file_path as Source_Path,  -- relative to the export folder: the loader resolves and checks it
    mime_type as Mime_Type,
    size_bytes as Size_Bytes,
    document_type as Document_Type,
    is_oversized as Over_Size_Limit,
    {%- if var('document_url_base') %}
        case
            when is_oversized and source_path is not null
                then concat(
                    rtrim('{{ var("document_url_base") | replace("'", "''") }}', '/'),
                    '/',
                    replace(file_path, chr(92), '/')
                )
        end
    {%- else %}
        null::varchar
    {%- endif %} as Attachment_URL
{{ clinic_extra_columns('int_documents') }}
from {{ ref('int_documents') }}
where exclusion_rule is null
