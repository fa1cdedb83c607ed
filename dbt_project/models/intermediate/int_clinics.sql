-- Clinics of every landed format in one shape: Synthea organizations and FHIR Organization
-- resources are the clinics and hospitals the providers work for.
with

unioned as (
    select * from {{ ref('stg_generic__clinics') }}
    union all by name
    select * from {{ ref('stg_synthea__organizations') }}
    union all by name
    select * from {{ ref('stg_fhir__organization') }}
)

select
    clinic_id,
    clinic_name,
    phone,
    email,
    website,
    address_line,
    city,
    state,
    postal_code,
    source_format,
    'clinics' as source_entity,
    1 as source_rows,
    'Accounts' as zoho_module,
    cast(null as varchar) as exclusion_rule,
    _source_file,
    _source_row
from unioned
