-- Nothing lost: per source entity, the records staged (latest version per key) must equal the
-- records mapped into Zoho plus those excluded by a named rule (listed with their counts).
-- Aggregating entities count the source rows folded into each record (Synthea coverage periods
-- into plans, claim transactions into claims).
{%- set entities = [
    ('generic', 'stg_generic__clinics', 'int_clinics', 'source_rows'),
    ('generic', 'stg_generic__patients', 'int_patients', 'source_rows'),
    ('generic', 'stg_generic__appointments', 'int_appointments', 'source_rows'),
    ('generic', 'stg_generic__insurance_plans', 'int_insurance_plans', 'source_rows'),
    ('generic', 'stg_generic__claims', 'int_claims', 'source_rows'),
    ('generic', 'stg_generic__treatments', 'int_treatments', 'source_rows'),
    ('generic', 'stg_generic__clinical_notes', 'int_notes', 'source_rows'),
    ('generic', 'stg_generic__documents', 'int_documents', 'source_rows'),
    ('generic', 'stg_generic__care_programs', 'int_care_programs', 'source_rows'),
    ('generic', 'stg_generic__program_enrollments', 'int_program_enrollments', 'source_rows'),
    ('generic', 'stg_generic__communications', 'int_communications', 'source_rows'),
    ('synthea', 'stg_synthea__organizations', 'int_clinics', 'source_rows'),
    ('synthea', 'stg_synthea__patients', 'int_patients', 'source_rows'),
    ('synthea', 'stg_synthea__encounters', 'int_appointments', 'source_rows'),
    ('synthea', 'stg_synthea__payer_transitions', 'int_insurance_plans', 'source_rows'),
    ('synthea', 'stg_synthea__claims', 'int_claims', 'source_rows'),
    ('synthea', 'stg_synthea__claims_transactions', 'int_claims', 'transaction_rows'),
    ('synthea', 'stg_synthea__procedures', 'int_treatments', 'source_rows'),
    ('fhir', 'stg_fhir__organization', 'int_clinics', 'source_rows'),
    ('fhir', 'stg_fhir__patient', 'int_patients', 'source_rows'),
    ('fhir', 'stg_fhir__encounter', 'int_appointments', 'source_rows'),
    ('fhir', 'stg_fhir__procedure', 'int_treatments', 'source_rows'),
    ('fhir', 'stg_fhir__documentreference', 'int_notes', 'source_rows'),
    ('fhir', 'stg_fhir__communication', 'int_communications', 'source_rows'),
] %}
with

{% for source_format, staging_model, clinic_model, units in entities %}
    entity_{{ loop.index }} as (
        select
            '{{ source_format }}' as source_format,
            '{{ staging_model }}' as staging_model,
            '{{ clinic_model }}' as clinic_model,
            (select count(*) from {{ ref(staging_model) }}) as staged_rows,
            coalesce(sum({{ units }}) filter (where exclusion_rule is null), 0) as mapped_rows,
            coalesce(sum({{ units }}) filter (where exclusion_rule is not null), 0) as excluded_rows,
            string_agg(distinct exclusion_rule, ', ' order by exclusion_rule) as exclusion_rules
        from {{ ref(clinic_model) }}
        where source_format = '{{ source_format }}'
    ),
{% endfor %}

unioned as (
    {%- for _ in entities %}
        select * from entity_{{ loop.index }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select
    *,
    staged_rows - mapped_rows - excluded_rows as unaccounted_rows
from unioned
