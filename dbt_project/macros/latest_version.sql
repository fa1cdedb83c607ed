{#- Raw tables keep every landed version of a record; staging keeps the latest one per key. -#}
{% macro latest_version(key) -%}
    qualify row_number() over (partition by {{ key }} order by _loaded_at desc, _source_row desc) = 1
{%- endmacro %}
