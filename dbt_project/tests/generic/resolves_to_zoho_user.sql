{#- An owner column (a provider's email) names a user of the target Zoho org. -#}
{% test resolves_to_zoho_user(model, column_name) %}
    {{ config(store_failures=true) }}
select
    {{ column_name }} as owner_email_without_zoho_user,
    count(*) as records
from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }} not in (
        select Email from {{ ref('zoho_users_resolution') }}
        where Resolution_Status = 'matched'
    )
group by {{ column_name }}
{% endtest %}
