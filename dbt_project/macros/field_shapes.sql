{#- The shape a Zoho field's values must have, by kind: an SQL expression that is NULL when the
    value fits and names the problem when it does not (empty values fit: required fields have
    tests of their own). Used by the generic test zoho_shape (the gate); plain Jinja with the
    reference relations passed in, so a report can render the same rules over other rows.

    Kinds: email, phone, url, country, state, postal_code (a state or postal code of the record's
    country when the model has a country column and the country is known; of any known country
    otherwise; unchecked for a country whose states or codes the vocabulary does not hold), and
    dates in a plausible window: birth_date, past_date, appointment_date, date (windows: var
    zoho_shape_date_windows; a window ending a day ahead of the warehouse's today allows for a
    clinic whose today is already tomorrow in UTC). `refs` holds the relations countries, states and postal_codes. -#}

{#- A value as mapping.header_words.normal writes it: umlauts spelled out, camel case split, accents
    dropped, lower-case words of letters and digits separated by one blank. -#}
{% macro shape_normal(expr) %}
    trim(regexp_replace(lower(strip_accents(replace(regexp_replace(
        replace(replace(replace(replace(replace(replace(replace(trim({{ expr }}),
        'ä', 'ae'), 'ö', 'oe'), 'ü', 'ue'), 'ß', 'ss'), 'Ä', 'Ae'), 'Ö', 'Oe'), 'Ü', 'Ue'),
        '([a-z0-9])([A-Z])', '\1 \2', 'g'), '#', ' no '))), '[^a-z0-9]+', ' ', 'g'))
{%- endmacro %}

{#- A value with its letters and digits masked (Aa9): what is wrong shows, the value does not. -#}
{% macro shape_mask(expr) %}
    left(regexp_replace(regexp_replace(regexp_replace(regexp_replace(cast({{ expr }} as varchar),
        '\p{Ll}', 'a', 'g'), '\p{Lu}', 'A', 'g'), '[\p{Lt}\p{Lm}\p{Lo}]', 'a', 'g'), '\p{N}', '9', 'g'), 40)
{%- endmacro %}

{#- The ISO code of the country `expr` names, NULL when unknown. -#}
{% macro shape_country_code(expr, refs) %}
    (select shape_countries.country_code from {{ refs.countries }} as shape_countries
        where shape_countries.key = {{ shape_normal(expr) }})
{%- endmacro %}

{% macro shape_problem(expr, kind, refs, windows, country_expr=none) %}
    {%- set v = "nullif(trim(cast(" ~ expr ~ " as varchar)), '')" %}
    {%- set country = shape_country_code(country_expr, refs) if country_expr else 'cast(null as varchar)' %}
    {%- if kind == 'email' %}
        case when not regexp_full_match({{ v }}, '[^@\s,]+@[^@\s,]+\.[A-Za-z]{2,}') then 'not an e-mail address' end
    {%- elif kind == 'phone' %}
        {%- set digits = shape_phone_digits(v) %}
        case
            when not regexp_full_match({{ v }}, '\+?[\d\s().\-/]{7,24}(\s*(?i:x|ext\.?)\s*\d{1,6})?')
                then 'not a phone number'
            when length({{ digits }}) not between 7 and 15 then 'not 7 to 15 digits'
            when replace({{ digits }}, left({{ digits }}, 1), '') = '' then 'one digit repeated'
        end
    {%- elif kind == 'url' %}
        case when not regexp_full_match({{ v }}, '(?i)(https?://)?[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?([/?#]\S*)?')
            then 'not a web address' end
    {%- elif kind == 'country' %}
        case when {{ shape_country_code(v, refs) }} is null then 'not a country' end
    {%- elif kind == 'state' %}
        case
            when {{ country }} is not null
                and {{ country }} not in (select shape_states.country_code from {{ refs.states }} as shape_states)
                then null
            when not exists (
                select 1 from {{ refs.states }} as shape_states
                where shape_states.key = {{ shape_normal(v) }}
                    and ({{ country }} is null or shape_states.country_code = {{ country }})
            ) then 'not a state of ' || coalesce({{ country }}, 'a known country')
        end
    {%- elif kind == 'postal_code' %}
        case
            when {{ country }} is not null
                and {{ country }} not in (select shape_postal.country_code from {{ refs.postal_codes }} as shape_postal)
                then null
            when not exists (
                select 1 from {{ refs.postal_codes }} as shape_postal
                where regexp_full_match({{ v }}, shape_postal.pattern)
                    and ({{ country }} is null or shape_postal.country_code = {{ country }})
            ) then 'not a postal code of ' || coalesce({{ country }}, 'a known country')
        end
    {%- elif kind in windows %}
        {{ shape_date_problem(v, windows[kind]) }}
    {%- else %}
        {{ shape_unknown_kind(kind) }}
    {%- endif %}
{%- endmacro %}

{#- A date (or the date of an ISO datetime) outside its window {earliest, days_ahead}. -#}
{% macro shape_date_problem(v, window) %}
    {%- set d = 'coalesce(try_cast(' ~ v ~ ' as date), try_cast(left(' ~ v ~ ', 10) as date))' %}
    case
        when {{ d }} is null then 'not a date'
        when {{ d }} < date '{{ window.earliest }}' then 'before {{ window.earliest }}'
        when {{ d }} > current_date + interval {{ window.days_ahead | int }} day
            then '{{ "in the future" if window.days_ahead | int <= 1 else "more than %d days ahead" % (window.days_ahead | int) }}'
    end
{%- endmacro %}

{% macro shape_unknown_kind(kind) %}
    {{ exceptions.raise_compiler_error("zoho_shape: unknown kind " ~ kind) }}
{%- endmacro %}

{#- The digits of a phone number, its extension left out. -#}
{% macro shape_phone_digits(v) %}
    regexp_replace(regexp_replace({{ v }}, '\s*(?i:x|ext\.?)\s*\d{1,6}$', ''), '\D', '', 'g')
{%- endmacro %}
