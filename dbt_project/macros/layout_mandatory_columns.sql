{#- The layout-mandatory columns of a zoho_* model the export has no source for: one column per
    rule in the seed layout_mandatory_values (written from `layout_mandatory:` in
    dbt_project/mapping/<format>.yml by `clinic2zoho propose` / `clinic2zoho confirm`), holding the
    value a person confirmed there, or NULL while nobody has (the load's layout gate,
    clinic2zoho.loader.layout_gate, then counts the rows and stops before anything moves).
    Nothing is invented here: without a rule in the mapping the model has no such column. -#}
{% macro layout_mandatory_columns() -%}
    {%- set seed = ref('layout_mandatory_values') -%}
    {%- if execute -%}
        {%- set found = adapter.get_relation(database=seed.database, schema=seed.schema, identifier=seed.identifier) -%}
        {%- if found is none -%}
            {%- do exceptions.raise_compiler_error(
                "seed layout_mandatory_values not loaded: run dbt seed before " ~ this.name) -%}
        {%- endif -%}
        {%- set rows = run_query("select column_name, value from " ~ seed ~ " where zoho_model = '" ~ this.name
                                 ~ "' order by column_name") -%}
        {%- for row in rows %}
    , {% if row['value'] is none %}cast(null as varchar){% else %}'{{ row['value'] | replace("'", "''") }}'{% endif %} as "{{ row['column_name'] }}"
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
