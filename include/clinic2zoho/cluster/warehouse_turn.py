"""Waiting for the DuckDB warehouse to be free, for the one writer that runs outside the warehouse
pool: a dbt watching task's fallback (Cosmos runs the model itself when the task is retried or
cleared by hand). DuckDB lets one process write a database file and refuses the others with
`Could not set lock on file`; the pool keeps the other writers to one at a time."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
from tenacity import retry, retry_if_exception, stop_after_delay, wait_fixed

log = logging.getLogger(__name__)

LOCK_ERROR = "Could not set lock on file"
WAIT_SECONDS = 2.0
GIVE_UP_AFTER_SECONDS = 3600.0  # a cutover's longest writer (the dbt build) takes minutes, not an hour


def _held_by_another_process(error: BaseException) -> bool:
    held = isinstance(error, duckdb.IOException) and LOCK_ERROR in str(error)
    if held:
        log.info("the warehouse is being written by another task; waiting %.0f s", WAIT_SECONDS)
    return held


def wait_for_warehouse(path: Path, *, wait_seconds: float = WAIT_SECONDS,
                       give_up_after: float = GIVE_UP_AFTER_SECONDS) -> None:
    """Return once `path` can be opened for writing (it is closed again at once). A missing file
    is free. Raises DuckDB's lock error if another process still holds it after `give_up_after`."""
    if not Path(path).exists():
        return

    @retry(retry=retry_if_exception(_held_by_another_process), wait=wait_fixed(wait_seconds),
           stop=stop_after_delay(give_up_after), reraise=True)
    def open_for_writing() -> None:
        duckdb.connect(str(path)).close()

    open_for_writing()
