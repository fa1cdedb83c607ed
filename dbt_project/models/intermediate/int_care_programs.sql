-- Care programs, a custom object of the clinic system (custom module Care_Programs in Zoho).
select
    *,
    'care_programs' as source_entity,
    1 as source_rows,
    cast(null as varchar) as exclusion_rule
from {{ ref('stg_generic__care_programs') }}
