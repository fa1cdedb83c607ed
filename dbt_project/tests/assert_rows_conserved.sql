{{ config(store_failures=true) }}
-- Nothing lost: staged = mapped + excluded by a named rule, for every source entity.
select *
from {{ ref('row_conservation') }}
where unaccounted_rows <> 0
