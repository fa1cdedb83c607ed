"""The delta window after a cutover: changes made in the clinic system during a set period (24–48
hours) are landed, rebuilt and upserted into Zoho, then the window closes itself.

    from clinic2zoho.delta import open_window
    open_window(run_id, hours, source, format, dbt_vars={...})   # the cutover, once its load is validated

State lives in the warehouse (`ops.delta_window`, `ops.delta_files`, `ops.delta_baseline`,
`ops.delta_pending`, `ops.delta_runs`); the `clinic_delta` DAG runs the steps of `delta.run`."""

from clinic2zoho.delta.baseline import StagedDelta, stage_changes
from clinic2zoho.delta.changes import ChangeSet, FileFingerprint, detect_changes, scan_source
from clinic2zoho.delta.run import (DeltaRunError, DeltaRunResult, dbt_selection, finish_run, land_changes,
                                   pending_changes, rebuild_models, run_delta, stage_delta)
from clinic2zoho.delta.watermark import batches_past, latest_batch_at, rows_past_watermark
from clinic2zoho.delta.window import (MAX_HOURS, MIN_HOURS, DeltaWindow, DeltaWindowError, WindowCheck,
                                      check_window, close_window, close_windows_of_run, current_window, get_window,
                                      list_windows, open_window, recorded_files)

__all__ = [
    "MAX_HOURS", "MIN_HOURS", "ChangeSet", "DeltaRunError", "DeltaRunResult", "DeltaWindow", "DeltaWindowError",
    "FileFingerprint", "StagedDelta", "WindowCheck", "batches_past", "check_window", "close_window",
    "close_windows_of_run", "current_window", "dbt_selection", "detect_changes", "finish_run", "get_window",
    "land_changes", "latest_batch_at", "list_windows", "open_window", "pending_changes", "rebuild_models", "recorded_files",
    "rows_past_watermark", "run_delta", "scan_source", "stage_changes", "stage_delta",
]
