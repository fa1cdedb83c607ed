"""Airflow in child processes under a work folder, as `clinic2zoho migrate` and the demo's delta
run drive it: the environment (SQLite metadata DB under the work folder, this project's DAGs and
plugins, the Zoho Connections), `airflow db migrate` with the project's pools, one DAG run by
`airflow dags test` with its outcome, and the lines they print (the undo command, paths as typed).

Airflow itself is never imported here (include/ never imports Airflow): it runs in the child."""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinic2zoho import settings
from clinic2zoho.orchestration.dbt_render import FORMAT_ENV
from clinic2zoho.orchestration.redacted_output import RedactedProcess, Redactor, run_redacted

TELEMETRY = {"DO_NOT_TRACK": "1", "SCARF_NO_ANALYTICS": "true", "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
             "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False"}
FINISHED = {"success", "failed", "upstream_failed", "skipped", "removed"}


class MigrateError(RuntimeError):
    """The migration on one machine cannot go on (inputs, the work folder, Airflow's setup or a DAG
    that did not start); the message says why."""


@dataclass
class DagOutcome:
    dag_id: str
    run_id: str
    state: str
    tasks: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    log: Path | None = None

    @property
    def ok(self) -> bool:
        return self.state == "success"

    def failed_tasks(self) -> list[str]:
        return sorted(t for t, s in self.tasks.items() if s == "failed")


# ------------------------------------------------------------------------------------ environment
def airflow_env(home: Path, log_level: str, connections: dict[str, str], source_format: str) -> dict[str, str]:
    """The child processes' environment: SQLite Airflow under the work folder, this project's DAGs
    and plugins, no examples, no telemetry, the Zoho Connections (secrets: environment only), and
    the export's format (only its staging models are rendered as tasks)."""
    root = settings.PROJECT_ROOT
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update(TELEMETRY)
    env.update({
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos-cache"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": log_level,
        # Parsing a Cosmos DAG runs `dbt ls` (~20 s on an idle 2-core box, more under load):
        # Airflow's default 30 s import timeout would fail the DAG file on a busy machine.
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
        "CLINIC2ZOHO_HOME": str(home),
        FORMAT_ENV: source_format,
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("CLINIC2ZOHO_WAREHOUSE", None)
    env.pop("CLINIC2ZOHO_REPORTS", None)
    for conn_id, value in connections.items():
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = value
    return env


def airflow_bin() -> str:
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else "airflow"


def init_airflow(env: dict[str, str], logs: Path, redact: Redactor) -> None:
    from clinic2zoho.cluster.pools import REQUIRED_POOLS

    log = logs / "airflow_setup.log"
    if run_redacted([airflow_bin(), "db", "migrate"], env, log, redact):
        raise MigrateError(f"`airflow db migrate` failed; see {log}")
    for name, (slots, description) in REQUIRED_POOLS.items():
        if run_redacted([airflow_bin(), "pools", "set", name, str(slots), description], env, log, redact):
            raise MigrateError(f"`airflow pools set {name}` failed; see {log}")


# ------------------------------------------------------------------------------------ Zoho servers
def zoho_config(server: Any, edition: str | None = None) -> Any:
    """The org's ZohoConfig with its edition and licensed users read from the org (GET /org's
    license_details, zoho.edition) unless `edition` is given: the Connections the DAGs plan and
    pace with carry what the org is, not an assumption."""
    from clinic2zoho.zoho.edition import config_with_org_edition
    from clinic2zoho.zoho_server.work_orgs import local_config

    config, _ = config_with_org_edition(local_config(server), edition)
    return config


def server_secrets(servers: dict[str, Any]) -> Redactor:
    """What no log may hold: each org's OAuth client and refresh token and its admin token."""
    return Redactor(value for server in servers.values()
                    for value in (server.client_id, server.client_secret, server.refresh_token, server.admin_token))


# ------------------------------------------------------------------------------------ running DAGs
def _metadata_db(env: dict[str, str]) -> Path:
    return Path(env["AIRFLOW_HOME"]) / "airflow.db"


def _query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Read Airflow's SQLite metadata DB (the child writes it; a locked read is retried later)."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return []


def _task_states(db: Path, dag_id: str, run_id: str) -> dict[str, str]:
    rows = _query(db, "SELECT task_id, map_index, state FROM task_instance WHERE dag_id = ? AND run_id = ?",
                  (dag_id, run_id))
    return {(t if m < 0 else f"{t}[{m}]"): (s or "none") for t, m, s in rows}


def run_dag(dag_id: str, conf: dict[str, Any], env: dict[str, str], logs: Path, redact: Redactor,
            progress: Any = None) -> DagOutcome:
    """`airflow dags test` in a child process, its output (secrets masked) in logs/<dag>.log;
    progress from the metadata DB's task states."""
    log = logs / f"{dag_id}.log"
    log.write_text("")
    dag_file = Path(env["AIRFLOW__CORE__DAGS_FOLDER"]) / f"{dag_id}.py"
    db = _metadata_db(env)
    before = {r[0] for r in _query(db, "SELECT run_id FROM dag_run WHERE dag_id = ?", (dag_id,))}
    started = time.monotonic()
    proc = RedactedProcess([airflow_bin(), "dags", "test", dag_id, "--dagfile-path", str(dag_file),
                            "--conf", json.dumps(conf)], env, log, redact)
    run_id = None
    task = progress.add_task(dag_id, total=None) if progress else None
    try:
        while proc.poll() is None:
            time.sleep(1.0)
            runs = [r[0] for r in _query(db, "SELECT run_id FROM dag_run WHERE dag_id = ?", (dag_id,))]
            new = [r for r in runs if r not in before]
            run_id = new[-1] if new else run_id
            if run_id and progress is not None:
                states = _task_states(db, dag_id, run_id)
                done = sum(1 for s in states.values() if s in FINISHED)
                running = sorted(t for t, s in states.items() if s in ("running", "deferred"))
                progress.update(task, total=len(states) or None, completed=done,
                                description=f"{dag_id}: {(running[0] if running else '')[:40]}")
    except BaseException:
        proc.terminate()
        proc.wait(timeout=30)
        raise
    proc.wait()  # the log is complete before it is read
    runs = [r[0] for r in _query(db, "SELECT run_id FROM dag_run WHERE dag_id = ?", (dag_id,))]
    new = [r for r in runs if r not in before]
    run_id = new[-1] if new else run_id
    if run_id is None:
        raise MigrateError(f"{dag_id} did not start (exit {proc.returncode}); see {log}")
    state = (_query(db, "SELECT state FROM dag_run WHERE dag_id = ? AND run_id = ?", (dag_id, run_id)) or [("?",)])[0][0]
    if progress is not None:
        progress.update(task, completed=progress.tasks[task].total or 0, description=f"{dag_id}: {state}")
    return DagOutcome(dag_id, run_id, state, _task_states(db, dag_id, run_id), time.monotonic() - started, log)


def failure_reason(outcome: DagOutcome) -> str:
    """The message the failed task raised (the gate's, validation's...), from the DAG's log."""
    text = outcome.log.read_text(encoding="utf-8", errors="replace") if outcome.log else ""
    markers = ("AirflowFailException", "MappingNotConfirmed", "AirflowException", "RuntimeError", "Error:")
    for line in reversed(text.splitlines()):
        for marker in markers:
            if marker in line and ("writes to Zoho" in line or "failed" in line or "validation" in line
                                   or marker in ("MappingNotConfirmed", "AirflowFailException")):
                return line.split(marker, 1)[1].lstrip(": ").strip()[:1200]
    return ""


# ------------------------------------------------------------------------------------ what is printed
def undo_command(run_id: str, home: Path) -> str:
    """The rollback of a run as printed: --work finds the folder's journal and warehouse and, with no
    ZOHO_* variables set, starts its local orgs from their saved state (no credential printed)."""
    return f"clinic2zoho rollback --run {run_id} --work {shlex.quote(display_path(home))}"


def display_path(path: Path | str) -> str:
    """A path as the user would type it: relative to the current folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
