"""The delta window on the demo's machine: what `clinic2zoho migrate` says once the cutover opened
the window, and `clinic2zoho migrate --work DIR --delta`, one run of the DAG clinic_delta against
the work folder's production org (its local server started from its saved state). In a clinic's
Airflow the DAG runs by itself, hourly, against the Connection `zoho_default`."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any, Callable

from clinic2zoho.delta.window import DeltaWindow, current_window, get_window, journal_safe

# The demo's run looks for a change this long (the hourly DAG's default wait is 50 minutes).
WAIT_SECONDS = "15"
POKE_SECONDS = "1"


def _when(window: DeltaWindow, which: str) -> str:
    return f"{getattr(window, which):%Y-%m-%d %H:%M} UTC"


def window_lines(warehouse: Path, work: str) -> list[str]:
    """The open window: when it opened and closes, and how to run the delta (`work`: the work
    folder as the user should type it)."""
    window = current_window(warehouse)
    if window is None:
        return []
    return [f"delta window open from {_when(window, 'opened_at')} until {_when(window, 'closes_at')} "
            f"({window.hours:g} h): changes made to the export meanwhile reach Zoho through the DAG "
            "clinic_delta (hourly, in Airflow); it closes itself once its time has passed",
            f"  carry changes now with: clinic2zoho migrate --work {shlex.quote(work)} --delta"]


def run_once(home: Path, work: str, log_level: str, say: Callable[[str], None], console: Any) -> int:
    """One run of clinic_delta under the work folder's Airflow, against its local production org."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from clinic2zoho.orchestration import local_airflow
    from clinic2zoho.zoho.connection import connection_json
    from clinic2zoho.zoho_server.work_orgs import has_local_org, start_local_org

    warehouse = home / "warehouse.duckdb"
    window = current_window(warehouse)
    if window is None:
        say(f"no open delta window in {work}: the cutover opens one once its load is validated, and it "
            "closes itself once its time has passed")
        return 2
    if not has_local_org(home, "production"):
        say(f"{work} holds no local Zoho org: the delta of a real org runs in its Airflow (DAG clinic_delta)")
        return 2
    say("\n".join(window_lines(warehouse, work)[:1]))
    logs = home / "logs"
    logs.mkdir(exist_ok=True)
    server = start_local_org(home, "production")
    try:
        env = local_airflow.airflow_env(home, log_level, {"zoho_default": connection_json(local_airflow.zoho_config(server))},
                                  window.format)
        env.update(CLINIC2ZOHO_DELTA_WAIT_SECONDS=WAIT_SECONDS, CLINIC2ZOHO_DELTA_POKE_SECONDS=POKE_SECONDS)
        redact = local_airflow.server_secrets({"production": server})  # the org's credentials never reach logs/
        local_airflow.init_airflow(env, logs, redact)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=False) as progress:
            outcome = local_airflow.run_dag("clinic_delta", {}, env, logs, redact, progress)
    finally:
        server.close()
    say(f"clinic_delta: {outcome.state} in {outcome.seconds:.0f} s (run {outcome.run_id})")
    if not outcome.ok:
        say(f"failed at {', '.join(outcome.failed_tasks()) or '?'}; task logs: {local_airflow.display_path(outcome.log)}")
        return 1
    run_id = journal_safe(outcome.run_id)
    after = get_window(window.window_id, warehouse)
    if after.last_run_id != run_id:
        say("no change to the export since the last delta run: nothing sent" if after.is_open
            else f"the window closed: {after.close_reason}")
        return 0
    say(f"  {_sent(warehouse, window.window_id, run_id)}")
    say(f"undo this delta run with: {local_airflow.undo_command(run_id, home)}")
    return 0


def _sent(warehouse: Path, window_id: str, run_id: str) -> str:
    from clinic2zoho.delta.window import connect

    con = connect(warehouse, read_only=True)
    try:
        row = con.execute("SELECT staged FROM ops.delta_runs WHERE window_id = ? AND run_id = ?",
                          [window_id, run_id]).fetchone()
    finally:
        con.close()
    staged = json.loads(row[0]) if row and row[0] else {}
    counts = [f"{module}: {staged.get('new', {}).get(module, 0)} new, {staged.get('changed', {}).get(module, 0)} changed"
              for module in staged.get("modules", [])]
    return "sent " + ("; ".join(counts) if counts else "nothing (no row's content changed)")
