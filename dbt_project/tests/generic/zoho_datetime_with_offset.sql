{#- Zoho datetimes are ISO 8601 with an explicit UTC offset (2024-03-05T09:30:00-05:00). -#}
{% test zoho_datetime_with_offset(model, column_name) %}
{{ config(store_failures=true) }}
select {{ column_name }} as datetime_without_offset
from {{ model }}
where {{ column_name }} is not null
    and not regexp_full_match({{ column_name }}, '\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}')
{% endtest %}
