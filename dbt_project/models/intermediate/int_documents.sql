-- Patient documents, attached to the patient's Contact or Lead. A document over the size limit
-- (var attachment_max_bytes, Zoho's 20 MiB by default) is not uploaded: it goes as a link to where
-- the clinic publishes it (var document_url_base), and is listed by a warning test.
select
    documents.document_id,
    {{ surviving_patient_id('documents') }} as patient_id,
    patients.zoho_module as parent_module,
    documents.file_name,
    documents.file_path,
    documents.source_path,
    documents.mime_type,
    documents.size_bytes,
    documents.document_type,
    documents.created_at,
    coalesce(documents.size_bytes > {{ var('attachment_max_bytes') }}, false) as is_oversized,
    {{ related_record_exclusion('patients', leads_allowed=true) }} as exclusion_rule,
    documents.source_format,
    'documents' as source_entity,
    1 as source_rows,
    documents._source_file,
    documents._source_row
from {{ ref('stg_generic__documents') }} as documents
{{ join_surviving_patient('documents') }}
