{{ config(severity='warn', store_failures=true) }}
-- Values the mapping cannot read (an amount like "abc", a date like "13/07/1982"): they load
-- empty. Named by file, row, field and record id only; the values are in the Data Quality Report.
select
    source_file,
    source_row,
    field,
    expected_type,
    record_id
from {{ ref('unparsed_values') }}
order by source_file, source_row, field
