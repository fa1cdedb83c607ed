-- Notes: clinical notes as plain text, split into numbered parts of at most var
-- note_part_max_chars characters, on their patient's Contact or Lead. Zoho sets a note's
-- Created_Time itself, so the original date and the source note id go in the title
-- ("2024-03-05 Progress Note [n:123] (1/2)"), which also lets a resumed load recognise notes
-- already sent.
with

notes as (
    select
        *,
        coalesce(nullif(note_text, ''), '(empty note)') as body,
        greatest(
            1,
            cast(
                ceil(
                    length(coalesce(nullif(note_text, ''), '(empty note)')) / {{ var('note_part_max_chars') }}
                ) as integer
            )
        )
            as part_count
    from {{ ref('int_notes') }}
    where exclusion_rule is null
),

parts as (
    select
        notes.*,
        unnest(range(1, notes.part_count + 1)) as part_number
    from notes
)

select
    concat(
        coalesce({{ zoho_date('note_date') }}, 'undated'), ' ', left(note_type, 60),
        ' [n:', note_id, '] (', part_number, '/', part_count, ')'
    ) as Note_Title,
    substr(body, (part_number - 1) * {{ var('note_part_max_chars') }} + 1, {{ var('note_part_max_chars') }})
        as Note_Content,
    patient_id as Parent_Id,
    parent_module as Parent_Module,
    note_id as Source_Note_Id,
    part_number as Part_Number,
    part_count as Part_Count
{{ clinic_extra_columns('parts') }}
from parts
