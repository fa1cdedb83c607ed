"""What a purge keeps. Refuse by default: a table, report or column not named here is removed,
so a new table holding patient data is never kept by accident (one that should survive a purge is
added here, with the columns to empty)."""

from __future__ import annotations

from clinic2zoho.settings import WORK_ENTRIES

# "schema.table" -> columns emptied. Every other table and every view of the warehouse is dropped.
WAREHOUSE_KEEP: dict[str, tuple[str, ...]] = {
    "ops.load_journal": ("before_image", "label", "error"),
    "ops.load_rejects": ("message",),
    "ops.rollback_journal": ("error",),
    "ops.bulk_jobs": (),
    "ops.audit_log": (),
    "ops.schema_changes": (),  # the Zoho modules and fields a run created
    "ops.sample_patients": ("status", "stratum"),
    "ops.delta_window": (),
    "ops.delta_files": (),  # export file names and fingerprints
    "ops.delta_runs": (),
    "ops.purges": (),
    "raw._batches": (),
    "raw._file_loads": (),  # rows read, landed, unchanged, rejected per file
    "raw.raw_rejects": ("reason", "raw_record"),
}

# The tables of a journal segment (`journal/<run>/<module>.duckdb`, schema main).
SEGMENT_KEEP: dict[str, tuple[str, ...]] = {
    "main.load_journal": ("before_image", "label", "error"),
    "main.load_rejects": ("message",),
    "main.rollback_journal": ("error",),
    "main.bulk_jobs": (),
}

# Report files kept as they are (counts, ids, workflow definitions: no field values).
REPORTS_KEPT = ("load_*.json", "load_*.html", "workflow_rebuild.md", "workflow_rebuild.html", "purge.json")

# When a removed report's counts are recorded: the strings kept are names of things, never values;
# numbers are counts, except under the keys that hold a compared or example value.
COUNT_LABELS = frozenset({"module", "table", "entity", "format", "formats", "source_format", "staging_model",
                          "clinic_model", "run_id", "status", "grade", "code", "field", "generated_at"})
VALUE_KEYS = frozenset({"expected", "actual", "value", "values", "before", "after", "example", "examples",
                        "sample", "samples", "raw", "raw_record"})

# What clinic2zoho writes in a work folder; anything else is left alone and named.
KNOWN = WORK_ENTRIES
