"""The listener that records each failed task instance as one JSON line in the work folder's
`logs/task_failures.jsonl`: dag_id, run_id, task_id, map_index, the exception's type and its
message's first line. `clinic2zoho migrate` says why a DAG failed from this record
(orchestration.local_airflow.failure_reason), not from Airflow's log text.

Airflow calls the hook where the task ran, once it ended: under `airflow dags test` in the CLI's own
process, else in the worker's task process (an attempt that will be retried is reported too; the
last line of a task is its last attempt). Nothing is written unless CLINIC2ZOHO_HOME names a work
folder; never the traceback. The messages are the project's own and name record ids only, but a
library's exception could quote a request: the line is masked like migrate's logs, with the Zoho
Connections' secrets this process holds."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from airflow.providers.common.compat.sdk import hookimpl

from clinic2zoho.orchestration.local_airflow import task_failures_file
from clinic2zoho.orchestration.redacted_output import MIN_SECRET_LENGTH, Redactor

MESSAGE_CHARS = 1200


@hookimpl
def on_task_instance_failed(previous_state: Any, task_instance: Any, error: None | str | BaseException) -> None:
    """Airflow's hook (airflow/_shared/listeners/spec/taskinstance.py): a task instance failed, or
    failed an attempt that will be retried."""
    home = os.environ.get("CLINIC2ZOHO_HOME")
    if home:
        record(task_failures_file(home), task_instance, error)


def record(path: Path, task_instance: Any, error: None | str | BaseException) -> None:
    """Append the task instance's line, its error's type and masked first line, to `path`."""
    kind = None if error is None or isinstance(error, str) else _type_name(error)
    lines = str(error or "").strip().splitlines()
    first = lines[0].strip() if lines else ""
    message = _connection_secrets()(first.encode()).decode()[:MESSAGE_CHARS]  # masked whole, then cut
    append_line(path, {**instance_of(task_instance), "error_type": kind, "message": message})


def instance_of(task_instance: Any) -> dict[str, Any]:
    """What names a task instance in the work folder's lines."""
    return {"dag_id": task_instance.dag_id, "run_id": task_instance.run_id, "task_id": task_instance.task_id,
            "map_index": task_instance.map_index}


def append_line(path: Path, row: dict[str, Any]) -> None:
    """One JSON line appended in one write (parallel tasks append whole lines), the folder and the
    file owner-only like the rest of the work folder."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, json.dumps(row).encode() + b"\n")
    finally:
        os.close(fd)


def _type_name(error: BaseException) -> str:
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _connection_secrets() -> Redactor:
    """A Redactor of the secrets in this process's JSON Connections (`AIRFLOW_CONN_*`, as migrate
    hands them out: client id, client secret, refresh token). A value too short to mask reliably is
    left out rather than losing the line (every credential migrate hands out is longer)."""
    secrets: list[str] = []
    for name, value in os.environ.items():
        if not name.startswith("AIRFLOW_CONN_") or not value.lstrip().startswith("{"):
            continue
        try:
            conn = json.loads(value)
        except ValueError:
            continue
        extra = conn.get("extra") if isinstance(conn.get("extra"), dict) else {}
        secrets += [v for v in (conn.get("login"), conn.get("password"), extra.get("refresh_token"))
                    if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH]
    return Redactor(secrets)
