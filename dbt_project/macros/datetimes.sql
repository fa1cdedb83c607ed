{#- Zoho wants ISO 8601 datetimes with the UTC offset (2024-03-05T09:30:00-05:00). The export
    holds local wall-clock times (generic) or instants (Synthea: UTC "Z"; FHIR: any offset); both
    become a TIMESTAMPTZ instant first, then are written as clinic-local time plus its offset. -#}

{#- local wall-clock text in the clinic's zone -> instant -#}
{% macro local_to_instant(expr) -%}
    timezone('{{ var("clinic_timezone") }}', {{ parse_as(expr, 'timestamp') }})
{%- endmacro %}

{#- instant -> 'YYYY-MM-DDTHH:MM:SS+HH:MM' in the clinic's zone -#}
{% macro zoho_datetime(instant) -%}
    case when {{ instant }} is not null then
        strftime(timezone('{{ var("clinic_timezone") }}', {{ instant }}), '%Y-%m-%dT%H:%M:%S')
        || case
            when
                date_diff('minute', timezone('UTC', {{ instant }}), timezone('{{ var("clinic_timezone") }}', {{ instant }})) < 0
                then '-'
            else '+'
        end
        || strftime(
            timestamp '2000-01-01' + to_minutes(abs(date_diff(
                'minute', timezone('UTC', {{ instant }}), timezone('{{ var("clinic_timezone") }}', {{ instant }})
            ))),
            '%H:%M'
        )
    end
{%- endmacro %}

{#- instant -> clinic-local calendar date -#}
{% macro clinic_date(instant) -%}
    cast(timezone('{{ var("clinic_timezone") }}', {{ instant }}) as date)
{%- endmacro %}
