{#- The staging source of a CSV export read through its confirmed source map (docs/source_map.md):
    the landed raw table with each clinic column taken from the source column the map names and
    parsed by the map's rule into the canonical text the staging model reads (ISO dates and
    datetimes, plain decimals, true/false), then through the map's value map. A clinic column the
    map does not fill is NULL (raw._source_map lists it with no raw column). A value its rule
    cannot read is passed on unchanged, so staging's own parse_as leaves it empty and
    audit.unparsed_values lists it.

    The landing writes the map it read into raw._source_map; with no rows for the entity (the
    generic layout itself, Synthea, FHIR) the raw table is read as landed, a column an earlier
    version of the layout did not have being NULL. -#}
{% macro mapped_source(source_name, table_name, columns) -%}
{%- set rel = source(source_name, table_name) -%}
{%- set rows = mapped_source_rows(rel, table_name) if execute else none -%}
{%- if execute and not rows -%}
{%- set rows = missing_columns_rows(rel, columns) -%}
{%- endif -%}
{%- if not rows -%}
        {{ source_or_empty(source_name, table_name, columns) }}
    {%- else -%}
{%- set by_column = {} -%}
{%- for row in rows -%}
{%- do by_column.update({row['clinic_column']: row}) -%}
{%- endfor %}
        (
            select
{%- for column in columns %}
{%- if column in by_column %}
                    {{ mapped_value(by_column[column]) }} as {{ column }},
            {%- else %}
                    cast(null as varchar) as {{ column }},
{%- endif %}
{%- endfor %}
                _source_file,
                _source_row,
                _batch_id,
                _loaded_at,
                _row_hash
            from {{ rel }}
        )
{%- endif -%}
{%- endmacro %}

{#- Identity rows for a landed table without some of `columns` (each present column read as it
    is, the others NULL); none when the table holds them all or was not landed. -#}
{% macro missing_columns_rows(rel, columns) -%}
{%- set raw = adapter.get_relation(database=rel.database, schema=rel.schema, identifier=rel.identifier) -%}
{%- if raw is none -%}
{{ return(none) }}
{%- endif -%}
{%- set landed = adapter.get_columns_in_relation(raw) | map(attribute='name') | list -%}
{%- if columns | reject('in', landed) | list | length == 0 -%}
{{ return(none) }}
{%- endif -%}
{%- set rows = [] -%}
{%- for column in columns -%}
{%- do rows.append({'clinic_column': column, 'part': 0, 'raw_column': column if column in landed else none,
                    'parse': 'text', 'format': none, 'value_map': none}) -%}
{%- endfor -%}
{{ return(rows) }}
{%- endmacro %}

{#- The source map's rows for one entity, or none (no map, or the raw table was not landed). -#}
{% macro mapped_source_rows(rel, entity) -%}
{%- set raw = adapter.get_relation(database=rel.database, schema=rel.schema, identifier=rel.identifier) -%}
{%- set map_table = adapter.get_relation(database=rel.database, schema=rel.schema, identifier='_source_map') -%}
{%- if raw is none or map_table is none -%}
{{ return(none) }}
{%- endif -%}
    {%- set found = run_query(
        "select clinic_column, part, raw_column, parse, format, value_map from " ~ map_table
        ~ " where entity = '" ~ entity ~ "' and clinic_column is not null order by clinic_column"
    ) -%}
{{ return(found.rows if found.rows | length > 0 else none) }}
{%- endmacro %}

{#- One clinic column from its source-map row. -#}
{% macro mapped_value(row, qualifier='') -%}
{%- if row['raw_column'] is none -%}
        cast(null as varchar)
    {%- else -%}
{%- set raw = qualifier ~ '"' ~ row['raw_column'] ~ '"' -%}
    {%- set parsed = mapped_parse('trim(' ~ raw ~ ')', row['parse'], row['format'], row['part'])
        if row['parse'] not in (none, 'text') else raw -%}
{%- if row['value_map'] -%}
{%- set quoted = [] -%}
{%- for source, clinic in fromjson(row['value_map']).items() -%}
            {%- do quoted.append("when '" ~ (source | replace("'", "''")) ~ "' then '" ~ (clinic | replace("'", "''")) ~ "'") -%}
        {%- endfor -%}
        case trim({{ parsed }}) {{ quoted | join(' ') }} else {{ parsed }} end
    {%- else -%}
{{ parsed }}
{%- endif -%}
{%- endif -%}
{%- endmacro %}

{#- The strptime formats of a date order, as a SQL list: two-digit years first (a four-digit
    year fails them), separators / - . , with 24-hour and 12-hour clocks with and without seconds,
    then the date alone. Output, not `return`: the Data Quality Report renders these macros as
    plain Jinja (quality.unparsed), where only a top-level macro may return. -#}
{% macro _date_formats(order) -%}
{%- set parts = {'YMD': ['%Y', '%m', '%d'], 'DMY': ['%d', '%m', '%Y'], 'MDY': ['%m', '%d', '%Y']}[order] -%}
{%- set days = [] -%}
{%- for year in (['%Y'] if order == 'YMD' else ['%y', '%Y']) -%}
{%- for sep in ['/', '-', '.'] -%}
{%- do days.append(parts | join(sep) | replace('%Y', year)) -%}
{%- endfor -%}
{%- endfor -%}
{%- set formats = [] -%}
{%- for day in days -%}
{%- for clock in [' %H:%M:%S', ' %H:%M', 'T%H:%M:%S', 'T%H:%M', ' %I:%M:%S %p', ' %I:%M %p', ' %I:%M%p'] -%}
{%- do formats.append(day ~ clock) -%}
{%- endfor -%}
{%- endfor -%}
{%- do formats.extend(days) -%}
[{%- for f in formats -%}'{{ f }}'{{ ", " if not loop.last }}{%- endfor -%}]
{%- endmacro %}

{#- `v` (trimmed text) by the rule `parse` with `format`; `part` picks first (0) or last (1) name. -#}
{% macro mapped_parse(v, parse, format, part) -%}
{%- if parse == 'date' -%}
        coalesce(strftime(try_strptime({{ v }}, {{ _date_formats(format) }}), '%Y-%m-%d'), {{ v }})
    {%- elif parse == 'datetime' -%}
        case when regexp_matches({{ v }}, '(Z|[+-]\d{2}:?\d{2})$') then {{ v }}
             else coalesce(strftime(try_strptime({{ v }}, {{ _date_formats(format) }}), '%Y-%m-%d %H:%M:%S'), {{ v }}) end
    {%- elif parse == 'amount' -%}
{%- set cleaned = "regexp_replace(" ~ v ~ ", '[^0-9.,+-]', '', 'g')" -%}
{%- if format == 'decimal_comma' -%}
            {%- set cleaned = "replace(replace(" ~ cleaned ~ ", '.', ''), ',', '.')" -%}
        {%- else -%}
            {%- set cleaned = "replace(" ~ cleaned ~ ", ',', '')" -%}
        {%- endif -%}
        case when regexp_full_match({{ cleaned }}, '[+-]?[0-9]+([.][0-9]+)?') then {{ cleaned }} else {{ v }} end
    {%- elif parse == 'boolean' -%}
        case when lower({{ v }}) in ('y', 'yes', '1', 't', 'true', 'j', 'ja', 'si', 'sí', 'x') then 'true'
             when lower({{ v }}) in ('n', 'no', '0', 'f', 'false', 'nein') then 'false' else {{ v }} end
    {%- elif parse == 'name' -%}
{%- set comma = format == 'last_first' -%}
{#- "First Last": the last name is the last word with the particles before it (van, der, de,
    la, ...), the first name all before it (a double first name stays whole) -#}
{%- set particles = "van|von|der|den|de|del|della|des|da|di|du|la|le|st\\.?|ter|ten|bin|al" -%}
{%- set last = "'(?i)(?:^|\\s)((?:(?:" ~ particles ~ ")\\s+)*\\S+)$'" -%}
{%- if part == 0 -%}
            case when {{ comma }} and strpos({{ v }}, ',') > 0 then trim(substr({{ v }}, strpos({{ v }}, ',') + 1))
                 else nullif(trim(left({{ v }}, length({{ v }}) - length(regexp_extract({{ v }}, {{ last }}, 1)))), '') end
        {%- else -%}
            case when {{ comma }} and strpos({{ v }}, ',') > 0 then trim(split_part({{ v }}, ',', 1))
                 else regexp_extract({{ v }}, {{ last }}, 1) end
        {%- endif -%}
    {%- else -%}
{{ v }}
{%- endif -%}
{%- endmacro %}

{#- What a landed table reads as in staging: through the export's source map for the generic
    layout's entities (another layout), as landed for the other formats. -#}
{% macro clinic_relation(source_format, entity, columns) -%}
{%- if source_format == 'generic' -%}
{{ mapped_source('generic', entity, columns) }}
{%- else -%}
{{ source(source_format, entity) }}
{%- endif -%}
{%- endmacro %}
