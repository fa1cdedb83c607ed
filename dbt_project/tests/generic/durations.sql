{#- A duration is never negative: in seconds as the clinic model holds it, and as Zoho's Call_Duration
    writes it ("mm:ss": whole minutes, at least two digits, then seconds 00-59). -#}
{% test non_negative(model, column_name) %}
{{ config(store_failures=true) }}
select {{ column_name }} as negative_value
from {{ model }}
where {{ column_name }} < 0
{% endtest %}

{% test zoho_call_duration(model, column_name) %}
{{ config(store_failures=true) }}
select {{ column_name }} as not_minutes_and_seconds
from {{ model }}
where {{ column_name }} is not null and not regexp_full_match({{ column_name }}, '[0-9]{2,}:[0-5][0-9]')
{% endtest %}
