"""Sensor of the delta DAG: waits until the clinic export changed past the open delta window's
watermark. One look at once (no wait when something changed already); otherwise, with
`deferrable=True` (the default), it hands the waiting to `ExportChangesTrigger` and frees its
worker slot. The wait ends at the window's end or after `timeout` seconds, whichever is first;
nothing changed by then skips the rest of the run (the next scheduled run looks again)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.bases.sensor import PokeReturnValue
from airflow.sdk.exceptions import AirflowException, AirflowSkipException

from clinic2zoho_airflow.triggers.export_changes import ExportChangesTrigger


class ExportChangesSensor(BaseSensorOperator):
    """window_id: the delta window (templated; default: the open one); warehouse: the DuckDB file
    holding `ops.delta_*` (default: settings). Returns (XCom) the changes found."""

    template_fields: Sequence[str] = ("window_id", "warehouse")
    ui_color = "#e8f4e0"

    def __init__(self, *, window_id: str | None = None, warehouse: str | None = None, deferrable: bool = True,
                 poke_interval: float = 60.0, timeout: float = 50 * 60, **kwargs: Any) -> None:
        if poke_interval <= 0 or timeout <= 0:
            raise ValueError(f"{kwargs.get('task_id')}: poke_interval and timeout must be positive")
        super().__init__(poke_interval=poke_interval, timeout=timeout, **kwargs)
        self.window_id = window_id
        self.warehouse = warehouse
        self.deferrable = deferrable

    def _window(self):
        from clinic2zoho.delta.window import current_window, get_window

        window = get_window(self.window_id, self.warehouse) if self.window_id else current_window(self.warehouse)
        if window is None or not window.is_open:
            raise AirflowSkipException("no open delta window")
        return window

    def _look(self, window) -> dict[str, Any] | None:
        from clinic2zoho.delta.run import pending_changes

        found = pending_changes(window, self.warehouse)
        if not found["any"]:
            return None
        return {"window_id": window.window_id, "files": found["files"], "rows_past_watermark": found["rows_past_watermark"]}

    def poke(self, context: Any) -> PokeReturnValue | bool:
        found = self._look(self._window())
        return PokeReturnValue(is_done=True, xcom_value=found) if found else False

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        from clinic2zoho.delta.window import recorded_files

        window = self._window()
        found = self._look(window)
        if found:
            self.log.info("delta window %s: changes found: %s", window.window_id, _names(found))
            return found
        timeout = self.timeout.total_seconds() if isinstance(self.timeout, timedelta) else float(self.timeout)
        end_time = min(time.time() + timeout, window.closes_at.timestamp())
        from clinic2zoho import settings

        self.log.info("delta window %s: no change yet; waiting in the triggerer", window.window_id)
        self.defer(
            trigger=ExportChangesTrigger(
                source=window.source,
                recorded={n: f.to_dict() for n, f in recorded_files(window.window_id, self.warehouse).items()},
                end_time=end_time, window_id=window.window_id,
                warehouse=str(self.warehouse or settings.warehouse_path()),
                watermark_at=window.watermark_at.isoformat() if window.watermark_at else None,
                poll_interval=float(self.poke_interval)),
            method_name="execute_complete")

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        status = event.get("status")
        if status == "changed":
            found = {k: event[k] for k in ("window_id", "files", "rows_past_watermark")}
            self.log.info("delta window %s: changes found: %s", event.get("window_id"), _names(found))
            return found
        if status == "timeout":
            raise AirflowSkipException(f"delta window {event.get('window_id')}: {event.get('message')}")
        raise AirflowException(f"delta window {event.get('window_id')}: watching the export failed: "
                               f"{event.get('message')}")


def _names(found: dict[str, Any]) -> str:
    files = found["files"]
    return (f"new files {files['new'] or 'none'}, changed files {files['changed'] or 'none'}, "
            f"{found['rows_past_watermark']} row(s) landed past the watermark")
