{#- The parse rules: how staging reads a typed value out of the export's text, and which fields
    it reads so. A value that breaks its rule becomes NULL (never an error at query time) and is
    listed (audit model unparsed_values, gate warning warn_unparsed_values). The Data Quality
    Report renders these same macros over the landed rows (clinic2zoho.quality.unparsed), so this
    file is plain Jinja: no dbt context function outside the error path. -#}

{#- A plain decimal number: no currency symbol, thousands separator, decimal comma, NaN or inf
    (reading those is a rule of its own, not a guess made here). -#}
{% macro _number_pattern() -%}
    '[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?'
{%- endmacro %}

{#- `expr` (text) read as `kind`; NULL when empty or unreadable. -#}
{% macro parse_as(expr, kind) -%}
    {%- set v = 'trim(' ~ expr ~ ')' -%}
    {%- if kind == 'amount' -%}
        case when regexp_full_match({{ v }}, {{ _number_pattern() }}) then try_cast({{ v }} as decimal(14, 2)) end
    {%- elif kind == 'integer' -%}
        case when regexp_full_match({{ v }}, '[+-]?[0-9]+') then try_cast({{ v }} as bigint) end
    {%- elif kind in ('date', 'timestamp', 'timestamptz', 'boolean') -%}
        try_cast({{ v }} as {{ kind }})
    {%- elif kind == 'base64_text' -%}
        try(decode(from_base64({{ v }})))
    {%- else -%}
        {{ exceptions.raise_compiler_error("parse_as: unknown kind " ~ kind) }}
    {%- endif -%}
{%- endmacro %}

{#- True when the source held a value (not blank) that its rule cannot read. -#}
{% macro is_unparsed(expr, kind) -%}
    (nullif(trim({{ expr }}), '') is not null and {{ parse_as(expr, kind) }} is null)
{%- endmacro %}

{#- Every field staging parses, per landed table: the key staging keeps the latest version by, and
    the fields as (name, kind) or (name, kind, expression over the raw row). A staging model's
    parse_as calls and this list are checked against each other (tests/dbt/test_parse_rules.py). -#}
{% macro parsed_fields() -%}
    {%- set fhir_id = "json_extract_string(resource, '$.id')" -%}
    {{ return([
        {'format': 'generic', 'entity': 'patients', 'key': 'patient_id', 'fields': [
            ('birth_date', 'date'), ('created_at', 'timestamp'), ('updated_at', 'timestamp'),
            ('email_opt_out', 'boolean'), ('sms_opt_out', 'boolean')]},
        {'format': 'generic', 'entity': 'appointments', 'key': 'appointment_id', 'fields': [
            ('visit_date', 'date'), ('start_time', 'timestamp'), ('end_time', 'timestamp'),
            ('created_at', 'timestamp')]},
        {'format': 'generic', 'entity': 'insurance_plans', 'key': 'plan_id', 'fields': [
            ('effective_date', 'date'), ('termination_date', 'date')]},
        {'format': 'generic', 'entity': 'claims', 'key': 'claim_id', 'fields': [
            ('service_date', 'date'), ('amount_billed', 'amount'), ('amount_paid', 'amount'),
            ('balance', 'amount')]},
        {'format': 'generic', 'entity': 'treatments', 'key': 'treatment_id', 'fields': [
            ('treatment_date', 'date')]},
        {'format': 'generic', 'entity': 'clinical_notes', 'key': 'note_id', 'fields': [
            ('note_date', 'timestamp')]},
        {'format': 'generic', 'entity': 'documents', 'key': 'document_id', 'fields': [
            ('size_bytes', 'integer'), ('created_at', 'timestamp')]},
        {'format': 'generic', 'entity': 'care_programs', 'key': 'program_id', 'fields': [
            ('start_date', 'date')]},
        {'format': 'generic', 'entity': 'program_enrollments', 'key': 'enrollment_id', 'fields': [
            ('enrolled_on', 'date')]},
        {'format': 'generic', 'entity': 'communications', 'key': 'communication_id', 'fields': [
            ('started_at', 'timestamp'), ('duration_seconds', 'integer')]},
        {'format': 'generic', 'entity': 'workflows', 'key': 'workflow_id', 'fields': [
            ('active', 'boolean')]},
        {'format': 'synthea', 'entity': 'patients', 'key': 'id', 'fields': [
            ('birthdate', 'date'), ('deathdate', 'date')]},
        {'format': 'synthea', 'entity': 'encounters', 'key': 'id', 'fields': [
            ('start', 'timestamptz'), ('stop', 'timestamptz')]},
        {'format': 'synthea', 'entity': 'procedures', 'key': 'patient, encounter, code, start', 'fields': [
            ('start', 'timestamptz')]},
        {'format': 'synthea', 'entity': 'payer_transitions', 'key': 'patient, start_year, payer', 'fields': [
            ('start_year', 'timestamptz'), ('end_year', 'timestamptz')]},
        {'format': 'synthea', 'entity': 'claims', 'key': 'id', 'fields': [
            ('servicedate', 'timestamptz'), ('outstanding1', 'amount'), ('outstanding2', 'amount'),
            ('outstandingp', 'amount')]},
        {'format': 'synthea', 'entity': 'claims_transactions', 'key': 'id', 'fields': [
            ('amount', 'amount'), ('payments', 'amount'), ('adjustments', 'amount'),
            ('fromdate', 'timestamptz')]},
        {'format': 'fhir', 'entity': 'patient', 'key': fhir_id, 'fields': [
            ('birthDate', 'date', "resource ->> '$.birthDate'"),
            ('deceasedDateTime', 'timestamptz', "resource ->> '$.deceasedDateTime'")]},
        {'format': 'fhir', 'entity': 'encounter', 'key': fhir_id, 'fields': [
            ('period.start', 'timestamptz', "resource ->> '$.period.start'"),
            ('period.end', 'timestamptz', "resource ->> '$.period.end'")]},
        {'format': 'fhir', 'entity': 'procedure', 'key': fhir_id, 'fields': [
            ('performed[x]', 'timestamptz',
             "coalesce(resource ->> '$.performedPeriod.start', resource ->> '$.performedDateTime')")]},
        {'format': 'fhir', 'entity': 'documentreference', 'key': fhir_id, 'fields': [
            ('date', 'timestamptz', "resource ->> '$.date'"),
            ('content.attachment.data', 'base64_text', "resource ->> '$.content[0].attachment.data'")]},
        {'format': 'fhir', 'entity': 'communication', 'key': fhir_id, 'fields': [
            ('sent', 'timestamptz', "coalesce(resource ->> '$.sent', resource ->> '$.received')")]},
    ]) }}
{%- endmacro %}

{#- The rows of one landed table (latest version per key, as staging keeps them) whose parsed
    fields hold a value their rule cannot read: one row per (record, field). -#}
{% macro unparsed_rows(relation, source_format, entity, key, fields) -%}
    {%- set checks = [] -%}
    {%- for f in fields -%}
        {%- set expr = f[2] if f | length > 2 else f[0] -%}
        {%- do checks.append(
            "{'field': '" ~ f[0] ~ "', 'value': cast(" ~ expr ~ " as varchar), 'expected_type': '" ~ f[1]
            ~ "', 'unparsed': " ~ is_unparsed(expr, f[1]) ~ "}"
        ) -%}
    {%- endfor -%}
    select
        '{{ source_format }}' as source_format,
        '{{ entity }}' as entity,
        _source_file as source_file,
        _source_row as source_row,
        record_id,
        checked.field as field,
        checked.value as value,
        checked.expected_type as expected_type
    from (
        select
            _source_file,
            _source_row,
            cast(concat_ws('|', {{ key }}) as varchar) as record_id,
            unnest([{{ checks | join(', ') }}]) as checked
        from (select * from {{ relation }} {{ latest_version(key) }}) as latest
    )
    where checked.unparsed
{%- endmacro %}
