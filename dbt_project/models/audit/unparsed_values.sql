-- Values staging could not read: a landed field that holds something (not blank) its parse rule
-- rejects, so staging left it empty. One row per record and field, with the file and row it came
-- from; the gate warns with them (warn_unparsed_values) and the Data Quality Report lists them.
-- Rules and fields: macros/parse_values.sql. A generic entity in another layout is read through
-- the export's source map (clinic_relation), as staging reads it.
-- noqa: disable=LT02
{%- set parts = [] -%}
{%- for table in parsed_fields() -%}
    {%- set relation = source(table.format, table.entity) -%}
    {%- if execute and adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) is not none -%}
        {%- set columns = [table.key] + (table.fields | map('first') | list) -%}
        {%- do parts.append(unparsed_rows(
            clinic_relation(table.format, table.entity, columns), table.format, table.entity, table.key, table.fields
        )) -%}
    {%- endif -%}
{%- endfor %}

-- noqa: enable=LT02
{% if parts -%}
    {{ parts | join('\nunion all\n') }}
{%- else -%}
    select
        cast(null as varchar) as source_format,
        cast(null as varchar) as entity,
        cast(null as varchar) as source_file,
        cast(null as bigint) as source_row,
        cast(null as varchar) as record_id,
        cast(null as varchar) as field,
        cast(null as varchar) as value,
        cast(null as varchar) as expected_type
    where false
{%- endif %}
