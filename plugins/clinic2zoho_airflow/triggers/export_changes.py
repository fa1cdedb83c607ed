"""Trigger that waits, without a worker slot, for a clinic export to change: a watched file new or
changed since the fingerprints recorded at the delta window's watermark, or rows landed in the
warehouse past the watermark. Yields exactly one event: `changed` (with the file names and the
row count), `timeout` (deadline reached: the window's end or the sensor's timeout), or `error`."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any, AsyncIterator

from airflow.triggers.base import BaseTrigger, TriggerEvent


class ExportChangesTrigger(BaseTrigger):
    """source: the export folder; recorded: name -> fingerprint dict (FileFingerprint.to_dict());
    warehouse / watermark_at (ISO): where and since when landed rows count; end_time: epoch
    seconds after which a `timeout` event is sent."""

    def __init__(self, source: str, recorded: dict[str, dict], end_time: float, window_id: str = "",
                 warehouse: str | None = None, watermark_at: str | None = None, poll_interval: float = 60.0):
        super().__init__()
        self.source = source
        self.recorded = recorded
        self.end_time = end_time
        self.window_id = window_id
        self.warehouse = warehouse
        self.watermark_at = watermark_at
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}", {
            "source": self.source, "recorded": self.recorded, "end_time": self.end_time,
            "window_id": self.window_id, "warehouse": self.warehouse, "watermark_at": self.watermark_at,
            "poll_interval": self.poll_interval})

    def _look(self) -> dict[str, Any] | None:
        """One look (blocking: file reads and a read-only DuckDB query); the changes or None."""
        from clinic2zoho.delta.changes import FileFingerprint, detect_changes
        from clinic2zoho.delta.watermark import rows_past_watermark_in

        recorded = {name: FileFingerprint.from_dict(data) for name, data in self.recorded.items()}
        changes = detect_changes(self.source, recorded)
        rows = 0
        if self.warehouse:
            watermark = datetime.fromisoformat(self.watermark_at) if self.watermark_at else None
            rows = rows_past_watermark_in(self.warehouse, watermark) or 0  # busy file: look again later
        if changes.any or rows:
            return {"files": changes.summary(), "rows_past_watermark": rows}
        return None

    async def run(self) -> AsyncIterator[TriggerEvent]:
        base = {"window_id": self.window_id}
        try:
            while True:
                found = await asyncio.to_thread(self._look)
                if found is not None:
                    yield TriggerEvent({**base, "status": "changed", **found})
                    return
                if time.time() >= self.end_time:
                    yield TriggerEvent({**base, "status": "timeout",
                                        "message": "no export file or landed row past the watermark"})
                    return
                await asyncio.sleep(min(self.poll_interval, max(0.0, self.end_time - time.time())))
        except Exception as exc:  # one event, always
            yield TriggerEvent({**base, "status": "error", "message": f"{type(exc).__name__}: {exc}"})
