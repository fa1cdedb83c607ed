{#- A seed the clinic edits in the project, plus the rows of an optional CSV given by a var for
    one run (e.g. the overrides that come with a generated or demo export). Same columns in both. -#}
{% macro seed_plus_file(seed_name, file_var, columns) -%}
    select {{ columns | join(', ') }} from {{ ref(seed_name) }}
    {%- if var(file_var, none) %}
        union all
        select {{ columns | join(', ') }}
        from read_csv('{{ var(file_var) }}', header = true, all_varchar = true)
    {%- endif %}
{%- endmacro %}
