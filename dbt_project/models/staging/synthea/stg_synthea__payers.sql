with

source as (
    select * from {{ source_or_empty('synthea', 'payers', ['id', 'name']) }}
),

renamed as (
    select
        id as payer_id,
        name as payer_name,
        'synthea' as source_format,
        _source_file,
        _source_row,
        _loaded_at
    from source
    {{ latest_version('id') }}
)

select * from renamed
