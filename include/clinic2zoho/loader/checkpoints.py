"""Named points in the load where a crash can be injected, to prove resume works.

`CLINIC2ZOHO_CRASH_AT=after_intent:3` makes the 3rd pass through `after_intent` end the process at
once (os._exit: no cleanup, no flush — as close to SIGKILL as Python gets). Tests may also pass
their own callable."""

from __future__ import annotations

import os
import threading
from typing import Callable

POINTS = ("after_intent", "after_call", "after_outcome", "after_upload", "after_job_created",
          "after_job_done", "after_rollback_intent", "after_rollback_call")

Checkpoint = Callable[[str], None]


class EnvCrash:
    def __init__(self, spec: str | None = None):
        spec = spec if spec is not None else os.environ.get("CLINIC2ZOHO_CRASH_AT", "")
        self.point, self.remaining = None, 0
        if spec:
            point, _, nth = spec.partition(":")
            if point not in POINTS:
                raise ValueError(f"CLINIC2ZOHO_CRASH_AT: unknown point {point!r} (one of {', '.join(POINTS)})")
            self.point, self.remaining = point, int(nth or 1)
        self._lock = threading.Lock()

    def __call__(self, point: str) -> None:
        if point != self.point:
            return
        with self._lock:
            self.remaining -= 1
            if self.remaining == 0:
                os._exit(137)


def no_checkpoint(point: str) -> None:
    return None
