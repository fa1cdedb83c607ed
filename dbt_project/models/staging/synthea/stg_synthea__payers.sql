with

source as (
    select * from {{ source_or_empty('synthea', 'payers', ['id', 'name']) }}
),

renamed as (
    select
        id as payer_id,
        name as payer_name,
        {{ lineage_columns('synthea') }}
    from source
    {{ latest_version('id') }}
)

select * from renamed
