{{ config(store_failures=true) }}
-- Every referral source a mapped patient names has a value in seed referral_source_map; the
-- failing rows list each unmapped value with the number of patients naming it.
select
    patients.referral_source_value as unmapped_referral_source,
    count(*) as patients
from {{ ref('int_patients') }} as patients
left join {{ ref('referral_source_map') }} as referral_map on patients.referral_source_value = referral_map.source_value
where
    patients.exclusion_rule is null
    and patients.referral_source_value is not null
    and referral_map.source_value is null
group by patients.referral_source_value
