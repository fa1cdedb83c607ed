{{ config(store_failures=true) }}
-- Every record mapped to a Zoho module is exactly one record of that module's table.
select *
from {{ ref('zoho_table_counts') }}
where mapped_records <> zoho_records
