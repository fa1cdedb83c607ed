-- Every duplicate pair of the Data Quality Report (quality.duplicate_candidates) with what a person
-- decided: merged (both ids end at one surviving patient, int_patient_merges), distinct (confirmed
-- two different people, int_patient_distinct), contradictory (both), or null (undecided). Pairs
-- that need a decision fail the gate while undecided (assert_duplicate_patients_decided); the
-- others are warnings (warn_possible_duplicate_patients). Validation reads it back too.
with

candidates as (
    select
        source_format,
        patient_id_1,
        patient_id_2,
        cast(match_probability as double) as match_probability,
        cast(needs_decision as boolean) as needs_decision
    from {{ source_or_empty('quality', 'duplicate_candidates',
                            ['source_format', 'patient_id_1', 'patient_id_2', 'match_probability', 'needs_decision']) }}
),

patient_merges as (
    select
        duplicate_patient_id,
        surviving_patient_id
    from {{ ref('int_patient_merges') }}
),

pairs_apart as (
    select
        patient_id_1,
        patient_id_2,
        decided_by,
        decided_at
    from {{ ref('int_patient_distinct') }}
    where decided_by is not null
),

ends as (
    select
        candidates.source_format,
        candidates.patient_id_1,
        candidates.patient_id_2,
        candidates.match_probability,
        candidates.needs_decision,
        coalesce(merge_1.surviving_patient_id, candidates.patient_id_1) as survivor_1,
        coalesce(merge_2.surviving_patient_id, candidates.patient_id_2) as survivor_2,
        pairs_apart.patient_id_1 is not null as is_apart,
        pairs_apart.decided_by,
        pairs_apart.decided_at
    from candidates
    left join patient_merges as merge_1 on candidates.patient_id_1 = merge_1.duplicate_patient_id
    left join patient_merges as merge_2 on candidates.patient_id_2 = merge_2.duplicate_patient_id
    left join pairs_apart
        on
            candidates.patient_id_1 = pairs_apart.patient_id_1
            and candidates.patient_id_2 = pairs_apart.patient_id_2
),

decided as (
    select
        source_format,
        patient_id_1,
        patient_id_2,
        match_probability,
        needs_decision,
        is_apart,
        decided_by,
        decided_at,
        survivor_1 as surviving_patient_id,
        survivor_1 = survivor_2 as is_merged
    from ends
)

select
    source_format,
    patient_id_1,
    patient_id_2,
    match_probability,
    needs_decision,
    decided_by,
    decided_at,
    case
        when is_merged and is_apart then 'contradictory'
        when is_merged then 'merged'
        when is_apart then 'distinct'
    end as decision,
    case when is_merged then surviving_patient_id end as surviving_patient_id
from decided
