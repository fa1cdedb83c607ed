{#- The values headed for a Zoho field have the field's shape (macros/field_shapes.sql): a country in
    a country field, a state of the record's country in a state field, an e-mail, a phone, a postal
    code, a date in its plausible window. A field where more than var zoho_shape_max_failing_share
    (1%) of its values fail, and at least var zoho_shape_min_failing_values (3), stops the gate
    (error): a systematic mistake, such as a wrong source column; fewer are a warning listing them,
    for the clinic to correct at the source.

    Rows: the record key, the field, the expected shape, the problem and the value masked (Aa9),
    never the value. A column the model does not have (an extra column of a format not landed)
    is not checked. `country_column`: the model's country column for state and postal code. -#}
{% test zoho_shape(model, column_name, kind, country_column=none) %}
    {#- where every test only warns (var tests_warn_only, the DAGs' one build), the warning is the
        gate's condition, so the gate task tells a stop from a warning by the status alone -#}
    {{ config(store_failures=true, error_if='!= 0 and bool_or(fails_gate)',
              warn_if=('!= 0 and bool_or(fails_gate)' if var('tests_warn_only', false) else '!= 0')) }}
    {%- set refs = {'countries': ref('reference_countries'), 'states': ref('reference_states'),
                    'postal_codes': ref('reference_postal_codes')} -%}
    {%- set columns = [] -%}
    {%- set meta = {} -%}
    {%- if execute -%}
        {%- do columns.extend(adapter.get_columns_in_relation(model) | map(attribute='name') | list) -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == model.identifier -%}
            {%- do meta.update(node.config.meta) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set key = meta.get('external_id') or meta.get('match_on') or meta.get('key')
                  or (columns[0] if columns else none) -%}
    {%- set field = (meta.get('zoho_module') or model.identifier) ~ '.' ~ column_name -%}
    {%- if column_name in columns %}
with

checked as (
    select
        cast({{ key }} as varchar) as record_key,
        {{ shape_problem(column_name, kind, refs, var('zoho_shape_date_windows'),
                         country_column if country_column in columns else none) }} as problem,
        {{ shape_mask(column_name) }} as value_shape
    from {{ model }}
    where nullif(trim(cast({{ column_name }} as varchar)), '') is not null
),

counted as (
    select
        checked.*,
        count(checked.problem) over () as failing_values,
        count(*) over () as checked_values
    from checked
)

select
    counted.record_key,
    '{{ field }}' as field,
    '{{ kind }}' as expected_shape,
    counted.problem,
    counted.value_shape,
    counted.failing_values,
    counted.checked_values,
    round(counted.failing_values / counted.checked_values, 4) as failing_share,
    (
        counted.failing_values > {{ var('zoho_shape_max_failing_share') }} * counted.checked_values
        and counted.failing_values >= {{ var('zoho_shape_min_failing_values') }}
    ) as fails_gate
from counted
where counted.problem is not null
order by counted.record_key
    {%- else %}
select
    cast(null as varchar) as record_key,
    '{{ field }}' as field,
    '{{ kind }}' as expected_shape,
    cast(null as varchar) as problem,
    cast(null as varchar) as value_shape,
    0 as failing_values,
    0 as checked_values,
    0.0 as failing_share,
    false as fails_gate
where false
    {%- endif %}
{% endtest %}
