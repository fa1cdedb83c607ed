{#- The clinic-specific extra columns of a zoho_* model: source columns the hand-written SQL does
    not map, which the confirmed mapping file carries into the model (`carried_by:
    clinic_extra_columns`). Their list is the seed mapping_model_columns (column_role extra), written
    from dbt_project/mapping/<format>.yml by `clinic2zoho propose` / `clinic2zoho confirm`, so
    confirming a new custom field needs no SQL edit.

    Called once at the end of a model's final select, with the alias of the intermediate relation
    whose rows the model maps (it carries the lineage columns _source_file and _source_row). Each
    extra column is read from the landed raw table of its format at that record's source row
    (the latest landed version), converted to the form Zoho wants for its data type, and
    translated through the file's value map for a pick-list. A column whose format was not landed
    is left out (the file-vs-model test expects extras of landed formats only). -#}
{% macro clinic_extra_columns(relation_alias) -%}
{%- set seed = ref('mapping_model_columns') -%}
{%- if execute -%}
{%- set found = adapter.get_relation(database=seed.database, schema=seed.schema, identifier=seed.identifier) -%}
{%- if found is none -%}
{%- do exceptions.raise_compiler_error("seed mapping_model_columns not loaded: run dbt seed before " ~ this.name) -%}
{%- endif -%}
{%- set rows = run_query(
            "select column_name, source_format, source_table, source_column, data_type, value_map from " ~ seed
            ~ " where column_role = 'extra' and zoho_model = '" ~ this.name ~ "' order by column_name, source_format"
        ) -%}
{%- set columns = {} -%}
{%- set landed = {} -%}
{%- for row in rows -%}
{%- set schema_name, table_name = row['source_table'].split('.') -%}
{%- set raw = adapter.get_relation(database=seed.database, schema=schema_name, identifier=table_name) -%}
{%- if raw is not none -%}
{%- if table_name not in landed -%}
{%- do landed.update({table_name: adapter.get_columns_in_relation(raw) | map(attribute='name') | list}) -%}
{%- endif -%}
{%- do columns.setdefault(row["column_name"], []).append({'raw': raw, 'row': row,
        'expr': extra_source_value(raw, table_name, row['source_column'], landed[table_name])}) -%}
{%- endif -%}
{%- endfor -%}
{%- for column, sources in columns.items() %}
    , coalesce(
{%- for source in sources %}
        (
            select arg_max_null({{ extra_column_value(source.expr, source.row['data_type'], source.row['value_map']) }}, extra._loaded_at)
            from {{ source.raw }} as extra
            where extra._source_file = {{ relation_alias }}._source_file and extra._source_row = {{ relation_alias }}._source_row
        ){{ "," if not loop.last }}
{%- endfor %}
{%- if sources | length == 1 %}, null{% endif %}) as "{{ column }}"
{%- endfor -%}
{%- endif -%}
{%- endmacro %}

{#- A landed VARCHAR value in the form Zoho takes for the field's data type. -#}
{% macro extra_column_value(expr, data_type, value_map) -%}
{%- if data_type == 'date' -%}
        {{ zoho_date('coalesce(try_cast(' ~ expr ~ ' as date), cast(try_cast(' ~ expr ~ ' as timestamptz) as date))') }}
{%- elif data_type == 'datetime' -%}
        {{ zoho_datetime("case when regexp_matches(" ~ expr ~ ", '(Z|[+-]\\d{2}:?\\d{2})$') then try_cast(" ~ expr ~ " as timestamptz) else " ~ local_to_instant(expr) ~ " end") }}
{%- elif data_type in ('integer', 'bigint') -%}
        try_cast({{ expr }} as bigint)
{%- elif data_type in ('double', 'decimal', 'currency') -%}
        try_cast({{ expr }} as double)
{%- elif data_type == 'boolean' -%}
        try_cast({{ expr }} as boolean)
{%- elif value_map -%}
{%- set quoted = [] -%}
{%- for source, zoho in fromjson(value_map).items() -%}
{%- do quoted.append("when '" ~ (source | replace("'", "''")) ~ "' then '" ~ (zoho | replace("'", "''")) ~ "'") -%}
{%- endfor -%}
case {{ expr }} {{ quoted | join(' ') }} else {{ expr }} end
{%- else -%}
{{ expr }}
{%- endif -%}
{%- endmacro %}

{#- The text of an extra column in the landed row `extra`: a clinic-model column comes through the
    export's source map (another layout names it otherwise; raw._source_map lists every clinic
    column of a mapped entity, those the map leaves out with no raw column: NULL); any
    other column is read as landed (NULL when this export has no such column). -#}
{% macro extra_source_value(raw, table_name, column, landed_columns) -%}
{%- set entity = table_name.split('__', 1)[1] if table_name.startswith('generic__') else none -%}
{%- set rows = mapped_source_rows(raw, entity) if entity else none -%}
{%- set mapped = {} -%}
{%- for row in rows or [] -%}
{%- do mapped.update({row['clinic_column']: row}) -%}
{%- endfor -%}
{%- if column in mapped -%}
{{ mapped_value(mapped[column], 'extra.') }}
{%- elif column in landed_columns -%}
extra."{{ column }}"
{%- else -%}
cast(null as varchar)
{%- endif -%}
{%- endmacro %}
