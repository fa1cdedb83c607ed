{#- A landed raw table, or an empty relation with the same VARCHAR columns when the export did
    not have that entity (a Synthea landing has no raw.fhir__* tables, and so on). Every staging
    model reads its source through this, so the whole project builds whatever was landed, and the
    intermediate models union the three formats without knowing which one is present. -#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {%- set rel = source(source_name, table_name) -%}
    {%- set found = none -%}
    {%- if execute -%}
        {%- set found = adapter.get_relation(database=rel.database, schema=rel.schema, identifier=rel.identifier) -%}
    {%- endif -%}
    {%- if found is not none or not execute -%}
        {{ rel }}
    {%- else -%}
        (
            select
        {%- for column in columns %}
                    cast(null as varchar) as {{ column }},
        {%- endfor %}
                cast(null as varchar) as _source_file,
                cast(null as bigint) as _source_row,
                cast(null as varchar) as _batch_id,
                cast(null as timestamptz) as _loaded_at,
                cast(null as varchar) as _row_hash
            where false
        )
    {%- endif -%}
{%- endmacro %}
