"""Airflow in child processes under a work folder, as `clinic2zoho migrate` and the demo's delta
run drive it: the environment (SQLite metadata DB under the work folder, this project's DAGs and
plugins, the Zoho Connections), `airflow db migrate` with the project's pools, one DAG run by
`airflow dags test` with its outcome (its exit status, the run and its task states from the line
the project's listener wrote when the run ended, else from Airflow's CLI, the failed task's message
from the listener's line for it), and the lines they print (the undo command, paths as typed).

Airflow itself is never imported here (include/ never imports Airflow): it runs in the child."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from clinic2zoho import settings
from clinic2zoho.orchestration.dbt_render import FORMAT_ENV
from clinic2zoho.orchestration.redacted_output import RedactedProcess, Redactor, run_redacted

TELEMETRY = {"DO_NOT_TRACK": "1", "SCARF_NO_ANALYTICS": "true", "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
             "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False"}
FINISHED = {"success", "failed", "upstream_failed", "skipped", "removed"}
TASK_FAILURES = "task_failures.jsonl"
TASK_PROGRESS = "task_progress.jsonl"
DAG_RUNS = "dag_runs.jsonl"


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
    failures: Path | None = None  # the work folder's task_failures.jsonl

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


def task_failures_file(home: Path | str) -> Path:
    """Where the project's Airflow listener (clinic2zoho_airflow.listeners.task_failures) keeps one
    JSON line per failed task instance of the work folder's runs."""
    return Path(home) / "logs" / TASK_FAILURES


def task_progress_file(home: Path | str) -> Path:
    """Where the project's Airflow listener (clinic2zoho_airflow.listeners.task_progress) keeps one
    JSON line per task instance's start and end of the work folder's runs."""
    return Path(home) / "logs" / TASK_PROGRESS


def dag_runs_file(home: Path | str) -> Path:
    """Where the project's Airflow listener (clinic2zoho_airflow.listeners.dag_runs) keeps one JSON
    line per ended run of the work folder: its ids, state and task instances' states."""
    return Path(home) / "logs" / DAG_RUNS


def airflow_bin() -> str:
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else "airflow"


# Airflow's own CLI commands run one after another in one child (this interpreter, whose venv has
# Airflow): each Airflow start-up costs ~2 s of CPU. A failing command ends it with SETUP_FAILED + its index.
SETUP_FAILED = 10
_SETUP = f"""
import json, sys, traceback
from airflow.__main__ import main
for step, argv in enumerate(json.loads(sys.argv[1])):
    sys.argv = ["airflow", *argv]
    try:
        main()
    except SystemExit as exc:
        if exc.code in (None, 0):
            continue
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        sys.exit({SETUP_FAILED} + step)
    except BaseException:
        traceback.print_exc()
        sys.exit({SETUP_FAILED} + step)
"""


def init_airflow(env: dict[str, str], logs: Path, redact: Redactor) -> None:
    """`airflow db migrate`, then `airflow pools set` for each pool the DAGs need, in one child."""
    from clinic2zoho.cluster.pools import REQUIRED_POOLS

    log = logs / "airflow_setup.log"
    commands = [["db", "migrate"]] + [["pools", "set", name, str(slots), description]
                                      for name, (slots, description) in REQUIRED_POOLS.items()]
    code = run_redacted([sys.executable, "-c", _SETUP, json.dumps(commands)], env, log, redact)
    if code:
        failed = commands[code - SETUP_FAILED] if 0 <= code - SETUP_FAILED < len(commands) else commands[0]
        raise MigrateError(f"`airflow {' '.join(failed[:3])}` failed; see {log}")


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
# What a run did is the line the project's listener wrote in `dags test`'s own process when the run
# ended (dag_runs_file), found by its DAG and logical date (given to `airflow dags test`, so known
# before the run exists); progress while it goes on, the listener's task lines (task_progress_file).
# Only when no line was written (the run never started, the child was killed) is Airflow's CLI
# asked (`-o json`): each call starts an Airflow (~2–4 s of CPU).
FAILURE_EVENTS = ("Task failed with exception", "[DAG TEST] Error running task")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z \[")  # a new event in Airflow's console log
TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(\S+) map_index=(-?\d+)")
NO_SUCH_DAG = "does not exist in 'dag' table"  # what `airflow dags list-runs` says of a DAG never parsed


class _AirflowQuery:
    """One `airflow ... -o json` in a child (quiet: its log is not kept), read once it has exited."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self._out = tempfile.TemporaryFile()  # a pipe could fill while the caller is elsewhere
        self._err = tempfile.TemporaryFile()  # searched for Airflow's "no such DAG", never shown
        self.proc = subprocess.Popen([airflow_bin(), *args, "-o", "json"], stdout=self._out,
                                     stderr=self._err, stdin=subprocess.DEVNULL,
                                     env={**env, "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR"})

    def failed(self) -> bool:
        return self.proc.wait() != 0

    def no_such_dag(self) -> bool:
        """Whether it failed because the metadata DB holds no such DAG (its file never parsed):
        asking again cannot change that."""
        self.proc.wait()
        self._err.seek(0)
        return NO_SUCH_DAG in self._err.read().decode("utf-8", errors="replace")

    def rows(self) -> list[dict[str, Any]]:
        """The rows Airflow printed ([] when it found none or failed: no run yet, no such DAG)."""
        self.proc.wait()
        self._out.seek(0)
        text = self._out.read().decode("utf-8", errors="replace")
        self._out.close()
        self._err.close()
        for line in reversed(text.splitlines()):  # the JSON is one line, after any warning
            if line.startswith("["):
                try:
                    return json.loads(line)
                except ValueError:
                    continue
        return []


def _runs_since(dag_id: str, logical_date: str, env: dict[str, str]) -> _AirflowQuery:
    return _AirflowQuery(["dags", "list-runs", dag_id, "--start-date", logical_date], env)


def _task_states(dag_id: str, logical_date: str, env: dict[str, str]) -> _AirflowQuery:
    return _AirflowQuery(["tasks", "states-for-dag-run", dag_id, logical_date], env)


def _states(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Task states by task id, a mapped task's instances as `task[i]`."""
    return {(r["task_id"] if str(r.get("map_index", "")) in ("", "-1") else f"{r['task_id']}[{r['map_index']}]"):
            (r.get("state") or "none") for r in rows}


def _queried_run(dag_id: str, logical_date: str, env: dict[str, str]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The run (None: there is none) and its task states, asked of Airflow's CLI (two children)."""
    runs, states = _runs_since(dag_id, logical_date, env), _task_states(dag_id, logical_date, env)
    for _ in range(2):  # a CLI that failed (a locked DB, a busy box) is asked again before "did not start"
        if not runs.failed() or runs.no_such_dag():
            break
        runs.rows()
        runs = _runs_since(dag_id, logical_date, env)
    return next(iter(runs.rows()), None), _states(states.rows())


def _recorded_run(path: Path, offset: int, dag_id: str,
                  logical_date: str) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The run and its task states from the listener's line for `dag_id` at `logical_date` written
    past `offset`, the last one if several; None when it wrote none."""
    when = datetime.fromisoformat(logical_date)
    found = None
    for row in _rows_past(path, offset, dag_id):
        try:
            if row.get("logical_date") and datetime.fromisoformat(row["logical_date"]) == when:
                found = row
        except (TypeError, ValueError):
            continue
    if found is None or not isinstance(found.get("tasks"), list):
        return None
    return found, _states(found["tasks"])


def _progress_rows(path: Path, offset: int, dag_id: str) -> list[dict[str, Any]]:
    """The listener's start and end lines of `dag_id` written past `offset` (this run's), in order."""
    return _rows_past(path, offset, dag_id)


def _rows_past(path: Path, offset: int, dag_id: str) -> list[dict[str, Any]]:
    """A listener file's JSON lines of `dag_id` written past `offset`, in order."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    rows = []
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:  # a line still being written
            continue
        if isinstance(row, dict) and row.get("dag_id") == dag_id:
            rows.append(row)
    return rows


def _show(progress: Any, task: Any, dag_id: str, states: dict[str, str]) -> None:
    done = sum(1 for s in states.values() if s in FINISHED)
    running = sorted(t for t, s in states.items() if s in ("running", "deferred"))
    progress.update(task, total=None, completed=done,
                    description=f"{dag_id}: {(running[0] if running else '')[:40]}")


def _ended_within(proc: RedactedProcess, seconds: float) -> bool:
    try:
        proc.proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def dag_alone(dag_id: str, env: dict[str, str]) -> tuple[dict[str, str], Path]:
    """The environment for `airflow dags test <dag_id>` with a DAGs folder holding only that DAG's
    file (a link to the project's), and the file. Before each run, `dags test` (Airflow 3.3)
    parses every file of its DAGs folder and writes them to the metadata DB: with the project's
    folder, two more dbt-rendering DAG files and all five serialised, 2-3 s a run."""
    source = Path(env["AIRFLOW__CORE__DAGS_FOLDER"]) / f"{dag_id}.py"
    folder = Path(env["AIRFLOW_HOME"]) / "dag_bundles" / dag_id
    folder.mkdir(parents=True, exist_ok=True)
    linked = folder / source.name
    if not (linked.is_symlink() and linked.resolve() == source.resolve()):
        linked.unlink(missing_ok=True)
        linked.symlink_to(source.resolve())
    return {**env, "AIRFLOW__CORE__DAGS_FOLDER": str(folder)}, linked


def run_dag(dag_id: str, conf: dict[str, Any], env: dict[str, str], logs: Path, redact: Redactor,
            progress: Any = None) -> DagOutcome:
    """`airflow dags test` in a child process, its output (secrets masked) in logs/<dag>.log; its
    exit status and the listener's line for the run (else Airflow's CLI) say how the run went
    (progress: the listener's task lines)."""
    log = logs / f"{dag_id}.log"
    log.write_text("")
    env, dag_file = dag_alone(dag_id, env)
    logical_date = datetime.now(timezone.utc).isoformat()  # what `dags test` takes by default, given
    # the project's listeners' lines (each task's start and end; the run's end), read past these offsets
    progress_file, runs_file = task_progress_file(env["CLINIC2ZOHO_HOME"]), dag_runs_file(env["CLINIC2ZOHO_HOME"])
    offset = progress_file.stat().st_size if progress_file.is_file() else 0
    runs_offset = runs_file.stat().st_size if runs_file.is_file() else 0
    started = time.monotonic()
    proc = RedactedProcess([airflow_bin(), "dags", "test", dag_id, logical_date, "--dagfile-path", str(dag_file),
                            "--conf", json.dumps(conf)], env, log, redact)
    task = progress.add_task(dag_id, total=None) if progress else None
    try:
        while not _ended_within(proc, 1.0):  # its end is seen at once, not at the next second's poll
            if progress is not None and (states := _states(_progress_rows(progress_file, offset, dag_id))):
                _show(progress, task, dag_id, states)
    except BaseException:
        proc.terminate()
        proc.wait(timeout=30)
        raise
    code = proc.wait()  # the log is complete before it is read
    seconds = time.monotonic() - started
    recorded = _recorded_run(runs_file, runs_offset, dag_id, logical_date)
    run, tasks = recorded if recorded else _queried_run(dag_id, logical_date, env)
    if run is None:
        raise MigrateError(f"{dag_id} did not start (exit {code}); see {log}")
    state = run["state"] if code == 0 or run["state"] != "success" else f"exit {code}"
    if progress is not None:
        progress.update(task, total=len(tasks) or None, completed=sum(1 for s in tasks.values() if s in FINISHED),
                        description=f"{dag_id}: {state}")
    return DagOutcome(dag_id, run["run_id"], state, tasks, seconds, log, task_failures_file(env["CLINIC2ZOHO_HOME"]))


def failure_reason(outcome: DagOutcome) -> str:
    """The message the failed task raised (the gate's, validation's...): its line in the work folder's
    task_failures.jsonl (the first failed task's with one, its last attempt's), else its failure
    event in the DAG's log."""
    failed = set(outcome.failed_tasks())
    named = [reason for task, reason in _recorded_reasons(outcome).items() if task in failed and reason]
    # A task that failed before its task runner could report it (`dags test`'s "[DAG TEST] Error
    # running task": it could not be started) has no line; Airflow's log text still has its error.
    return named[0] if named else _logged_reason(outcome)


def _recorded_reasons(outcome: DagOutcome) -> dict[str, str]:
    """The message of each task instance of the outcome's run in the listener's file, by task (a
    mapped instance as `task[i]`), in the order they first failed; a later attempt's line wins."""
    text = outcome.failures.read_text(encoding="utf-8", errors="replace") \
        if outcome.failures and outcome.failures.is_file() else ""
    reasons: dict[str, str] = {}
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:  # a line cut short by a process that died while writing it
            continue
        if not isinstance(row, dict) or (row.get("dag_id"), row.get("run_id")) != (outcome.dag_id, outcome.run_id):
            continue
        index = str(row.get("map_index", -1))
        task = row.get("task_id") if index in ("", "-1") else f"{row.get('task_id')}[{index}]"
        reasons[str(task)] = str(row.get("message") or row.get("error_type") or "")[:1200]
    return reasons


def _logged_reason(outcome: DagOutcome) -> str:
    """The exception of Airflow's failure event in the failed task's part of the DAG's log (`dags
    test` runs tasks in-process, one at a time, and writes no task log file), else the last failure
    event when no task is named (the log level above INFO)."""
    failed = set(outcome.failed_tasks())
    text = outcome.log.read_text(encoding="utf-8", errors="replace") if outcome.log else ""
    reasons: dict[str | None, str] = {}
    current: str | None = None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not LOG_LINE.match(line):
            continue
        if started := TASK_START.search(line):
            task_id, index = started.groups()
            current = task_id if index == "-1" else f"{task_id}[{index}]"
        elif any(event in line for event in FAILURE_EVENTS):
            end = next((j for j in range(i + 1, len(lines)) if LOG_LINE.match(lines[j])), len(lines))
            reasons[current] = _exception_message(lines[i + 1:end])
    named = [reason for task, reason in reasons.items() if task in failed and reason]
    return (named[0] if named else reasons.get(None, ""))[:1200]


def _exception_message(traceback: list[str]) -> str:
    """The message's first line in the `Type: message` line after a traceback's last frame."""
    last_frame = max((i for i, line in enumerate(traceback) if line.startswith((" ", "\t"))), default=-1)
    line = next((line.strip() for line in traceback[last_frame + 1:] if line.strip()), "")
    kind, sep, message = line.partition(": ")
    return message.strip() if sep and re.fullmatch(r"[\w.]+", kind) else line


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
