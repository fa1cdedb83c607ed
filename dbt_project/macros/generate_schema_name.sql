{#- Use the folder's schema name as is (staging, intermediate, zoho, ...), not <target>_<name>:
    the loader and reports read zoho.* by that name. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
