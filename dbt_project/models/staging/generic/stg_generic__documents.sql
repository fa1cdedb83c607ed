with

source as (
    select *
    from
        {{ source_or_empty('generic', 'documents', [
            'document_id', 'patient_id', 'file_name', 'file_path', 'mime_type',
            'size_bytes', 'document_type', 'created_at'
        ]) }}
),

renamed as (
    select
        document_id,
        patient_id,
        file_name,
        -- file_path is relative to the export folder, which holds the landed documents.csv
        file_path,
        case
            when _source_file is not null
                then concat_ws('/', regexp_replace(replace(_source_file, '\\', '/'), '/[^/]*$', ''), file_path)
        end as source_path,
        mime_type,
        try_cast(size_bytes as bigint) as size_bytes,
        document_type,
        {{ local_to_instant('created_at') }} as created_at,
        'generic' as source_format,
        _source_file,
        _source_row,
        _loaded_at
    from source
    {{ latest_version('document_id') }}
)

select * from renamed
