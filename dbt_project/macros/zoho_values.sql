{#- Values in the forms Zoho accepts. -#}

{#- an email Zoho's email field accepts, else null (the invalid value is listed by a warning test) -#}
{% macro valid_email(expr) -%}
    case when regexp_full_match({{ expr }}, '[^@\s,]+@[^@\s,]+\.[A-Za-z]{2,}') then {{ expr }} end
{%- endmacro %}

{#- a date as Zoho's YYYY-MM-DD text -#}
{% macro zoho_date(expr) -%}
    strftime({{ expr }}, '%Y-%m-%d')
{%- endmacro %}

{#- A pick-list value in the spelling the field's pick-list gives it (seed zoho_picklists, written
    from the mapping files' value maps): `participant` becomes `Participant`; a value the list does
    not hold passes unchanged (the pick-list test lists it). -#}
{% macro picklist_spelling(expr, module, field) -%}
    coalesce((
        select picklist.value
        from {{ ref('zoho_picklists') }} as picklist
        where
            picklist.module = '{{ module }}'
            and picklist.field = '{{ field }}'
            and lower(picklist.value) = lower(trim({{ expr }}))
        limit 1
    ), {{ expr }})
{%- endmacro %}
