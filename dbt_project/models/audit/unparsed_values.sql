-- Values staging could not read: a landed field that holds something (not blank) its parse rule
-- rejects, so staging left it empty. One row per record and field, with the file and row it came
-- from; the gate warns with them (warn_unparsed_values) and the Data Quality Report lists them.
-- Rules and fields: macros/parse_values.sql.
{%- set parts = [] -%}
{%- for table in parsed_fields() -%}
    {%- set relation = source(table.format, table.entity) -%}
    {%- if execute and adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) is not none -%}
        {%- if table.format == 'generic' -%}
            {#- another layout's columns, read through the export's source map -#}
            {%- set relation = mapped_source('generic', table.entity,
                                             [table.key] + (table.fields | map('first') | list)) -%}
        {%- endif -%}
        {%- do parts.append(unparsed_rows(relation, table.format, table.entity, table.key, table.fields)) -%}
    {%- endif -%}
{%- endfor %}

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
