{{ config(store_failures=true) }}
-- The confirmed mapping files and the zoho_* models agree: every target field a mapping file names
-- (mapped by the model's SQL, planned by the design, a helper column, or an extra column carried
-- by the clinic_extra_columns macro from a landed raw table) is a column of its model, and every
-- column of a model the files name is in a file. Fed by the seed mapping_model_columns, written
-- from dbt_project/mapping/<format>.yml. A failing row names the model, the column and the problem.
-- depends_on: {{ ref('zoho_accounts') }}, {{ ref('zoho_contacts') }}, {{ ref('zoho_leads') }}
-- depends_on: {{ ref('zoho_events') }}, {{ ref('zoho_tasks') }}, {{ ref('zoho_insurance') }}
-- depends_on: {{ ref('zoho_invoices') }}, {{ ref('zoho_billing_history') }}, {{ ref('zoho_treatments') }}
-- depends_on: {{ ref('zoho_notes') }}, {{ ref('zoho_attachments') }}, {{ ref('zoho_care_programs') }}
-- depends_on: {{ ref('zoho_program_enrollments') }}, {{ ref('zoho_calls') }}, {{ ref('zoho_communications') }}
with

landed_tables as (
    select concat(table_schema, '.', table_name) as source_table
    from information_schema.tables
    where table_schema = 'raw'
),

named as (
    select
        file_columns.zoho_model,
        file_columns.column_name,
        string_agg(distinct file_columns.column_role || ' (' || file_columns.source_format || ')', ', ') as named_as
    from {{ ref('mapping_model_columns') }} as file_columns
    where
        file_columns.column_role <> 'extra'
        or file_columns.source_table in (select landed_tables.source_table from landed_tables)
    group by file_columns.zoho_model, file_columns.column_name
),

built as (
    select
        model_columns.table_name as zoho_model,
        model_columns.column_name
    from information_schema.columns as model_columns
    where
        model_columns.table_schema = '{{ ref("zoho_contacts").schema }}'
        and model_columns.table_name in (
            select distinct file_columns.zoho_model from {{ ref('mapping_model_columns') }} as file_columns
        )
)

select
    coalesce(named.zoho_model, built.zoho_model) as zoho_model,
    coalesce(named.column_name, built.column_name) as column_name,
    case
        when built.column_name is null
            then 'named in the mapping file as ' || named.named_as || ', not a column of the model'
        else 'a column of the model, no target field in the mapping files'
    end as problem
from named
full outer join built on named.zoho_model = built.zoho_model and lower(named.column_name) = lower(built.column_name)
where named.column_name is null or built.column_name is null
order by zoho_model, column_name
