{#- Zoho limits a field's length by its type (var zoho_length_limits): a longer value is refused
    by the API. One test per model over all its text fields ({column: field type}); fails listing
    the record key, the field and its length. -#}
{% test zoho_field_lengths(model, key, fields) %}
    {{ config(store_failures=true) }}
    {%- set limits = var('zoho_length_limits') %}
    {%- for column, field_type in fields.items() %}
select
    {{ key }} as record_key,
    '{{ column }}' as field,
    length(cast({{ column }} as varchar)) as length,
    {{ limits[field_type] }} as limit_chars
from {{ model }}
where length(cast({{ column }} as varchar)) > {{ limits[field_type] }}
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
{% endtest %}
