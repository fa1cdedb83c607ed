{#- The landed FHIR resources of one type (raw.fhir__<resource_type>): each row's id, the whole
    resource as JSON for the staging model to pick fields from, and the lineage columns. -#}
{% macro fhir_resources(resource_type) -%}
    select
        json_extract_string(resource, '$.id') as resource_id,
        cast(resource as json) as resource,
        _source_file,
        _source_row,
        _loaded_at
    from {{ source_or_empty('fhir', resource_type, ['resource']) }}
{%- endmacro %}
