"""Named points in the load where a crash can be injected, to prove resume works.

`CLINIC2ZOHO_CRASH_AT=after_intent:3` makes the 3rd pass through `after_intent` end the process at
once (os._exit: no cleanup, no flush — as close to SIGKILL as Python gets).
`CLINIC2ZOHO_CRASH_AT=after_call@Notes:2` counts only the passes made for the Notes load (the
module whose audit scope the calling thread is in). Before dying the process writes one line to
stderr naming the point, the module and the pass. Tests may also pass their own callable.

Points where the journal holds the dying batch `sent` (the request reached Zoho, its outcome is
not journaled): after_call (record calls, notes, attachment uploads), after_job_created and
after_job_done (bulk jobs)."""

from __future__ import annotations

import os
import threading
from typing import Callable

from clinic2zoho.loader.journal import current_module

POINTS = ("after_intent", "after_call", "after_outcome", "after_upload", "after_job_created",
          "after_job_done", "after_rollback_intent", "after_rollback_call")

Checkpoint = Callable[[str], None]


def parse_spec(spec: str) -> tuple[str, str | None, int]:
    """`point[@Module][:n]` -> (point, module or None, n)."""
    where, _, nth = spec.partition(":")
    point, _, module = where.partition("@")
    if point not in POINTS:
        raise ValueError(f"CLINIC2ZOHO_CRASH_AT: unknown point {point!r} (one of {', '.join(POINTS)})")
    try:
        n = int(nth or 1)
    except ValueError:
        raise ValueError(f"CLINIC2ZOHO_CRASH_AT: {nth!r} is not a pass number") from None
    if n < 1:
        raise ValueError("CLINIC2ZOHO_CRASH_AT: the pass number counts from 1")
    return point, module or None, n


class EnvCrash:
    def __init__(self, spec: str | None = None):
        spec = spec if spec is not None else os.environ.get("CLINIC2ZOHO_CRASH_AT", "")
        self.point, self.module, self.remaining, self.nth = None, None, 0, 0
        if spec:
            self.point, self.module, self.nth = parse_spec(spec)
            self.remaining = self.nth
        self._lock = threading.Lock()

    def __call__(self, point: str) -> None:
        if point != self.point:
            return
        module = current_module()
        if self.module is not None and module != self.module:
            return
        with self._lock:
            self.remaining -= 1
            if self.remaining == 0:
                os.write(2, f"CLINIC2ZOHO_CRASH_AT: exiting at {point} in {module or '-'} (pass {self.nth})\n"
                         .encode())
                os._exit(137)


def no_checkpoint(point: str) -> None:
    return None
