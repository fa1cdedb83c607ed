with

source as (
    select *
    from
        {{ mapped_source('generic', 'documents', [
            'document_id', 'patient_id', 'file_name', 'file_path', 'mime_type',
            'size_bytes', 'document_type', 'created_at'
        ]) }}
),

renamed as (
    select
        document_id,
        patient_id,
        file_name,
        -- file_path: the document's path relative to the export folder, as the export gives it. The
        -- loader resolves it there and refuses one that leaves the folder (absolute, `..`, a symlink
        -- out), a load reject: that check is the boundary. source_path only links a document over
        -- the size limit; it is never built from a path that is absolute or climbs with `..`.
        file_path,
        case
            when
                _source_file is not null
                and not regexp_matches(replace(file_path, chr(92), '/'), '^(/|[A-Za-z]:)|(^|/)[.][.](/|$)')
                then concat_ws('/', regexp_replace(replace(_source_file, '\\', '/'), '/[^/]*$', ''), file_path)
        end as source_path,
        mime_type,
        {{ parse_as('size_bytes', 'integer') }} as size_bytes,
        document_type,
        {{ local_to_instant('created_at') }} as created_at,
        {{ lineage_columns('generic') }}
    from source
    {{ latest_version('document_id') }}
)

select * from renamed
