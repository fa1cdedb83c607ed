{#- Values in the forms Zoho accepts. -#}

{#- an email Zoho's email field accepts, else null (the invalid value is listed by a warning test) -#}
{% macro valid_email(expr) -%}
    case when regexp_full_match({{ expr }}, '[^@\s,]+@[^@\s,]+\.[A-Za-z]{2,}') then {{ expr }} end
{%- endmacro %}

{#- a date as Zoho's YYYY-MM-DD text -#}
{% macro zoho_date(expr) -%}
    strftime({{ expr }}, '%Y-%m-%d')
{%- endmacro %}
