{#- The staging source of a CSV export read through its confirmed source map (see
    docs/source_map.md): the landed raw table with each clinic column taken from the source column
    the map names, parsed by the map's rule into the canonical text the staging model reads. With
    no source map for the entity (the generic layout itself), the raw table as landed. -#}
{% macro mapped_source(source_name, table_name, columns) -%}
    {{ source_or_empty(source_name, table_name, columns) }}
{%- endmacro %}
