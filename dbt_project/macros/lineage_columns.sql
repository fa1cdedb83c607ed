{#- The columns every staging model ends with, so each Zoho record traces back to what it came from:
    the export's format, the file and row it was read from, and when it was landed. -#}
{% macro lineage_columns(source_format) -%}
    '{{ source_format }}' as source_format,
    _source_file,
    _source_row,
    _loaded_at
{%- endmacro %}
