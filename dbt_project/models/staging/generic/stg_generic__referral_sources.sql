with

source as (
    select * from {{ mapped_source('generic', 'referral_sources', [
            'referral_source_id', 'name', 'category'
        ]) }}
),

renamed as (
    select
        referral_source_id,
        name as referral_source_name,
        category as referral_source_category,
        {{ lineage_columns('generic') }}
    from source
    {{ latest_version('referral_source_id') }}
)

select * from renamed
