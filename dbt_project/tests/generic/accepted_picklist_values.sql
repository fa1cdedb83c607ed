{#- Every value of a pick-list column is one of the values declared for that Zoho field in the
    zoho_picklists seed (the values schema preparation creates). Fails listing each value. -#}
{% test accepted_picklist_values(model, column_name, module, field=none) %}
    {{ config(store_failures=true) }}
select
    {{ column_name }} as value_not_in_picklist,
    count(*) as records
from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }} not in (
        select value from {{ ref('zoho_picklists') }}
        where module = '{{ module }}' and field = '{{ field or column_name }}'
    )
group by {{ column_name }}
{% endtest %}
