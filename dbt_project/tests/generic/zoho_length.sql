{#- Zoho limits a field's length by its type (var zoho_length_limits): a longer value is refused
    by the API. Fails listing the record key and the length. -#}
{% test zoho_length(model, column_name, field_type, key) %}
{{ config(store_failures=true) }}
{%- set limit = var('zoho_length_limits')[field_type] %}
select
    {{ key }} as record_key,
    '{{ column_name }}' as field,
    length(cast({{ column_name }} as varchar)) as length,
    {{ limit }} as limit_chars
from {{ model }}
where length(cast({{ column_name }} as varchar)) > {{ limit }}
{% endtest %}
