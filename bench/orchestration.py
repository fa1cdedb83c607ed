"""Orchestration benchmark (issue 17): does the migration run at the speed of dbt and Zoho, not of
the orchestrator? Every orchestration ratio in one run.

    .venv/bin/python bench/orchestration.py --runs 3
    .venv/bin/python bench/orchestration.py --runs 1 --keep          # keep the work folders
    .venv/bin/python bench/orchestration.py --reuse DIR              # steps 2-4 on a migrated work folder

(--reuse: the DAG files render from DIR's dbt manifest only while the project is as migrate left
it, its mapping confirmation included; otherwise the parse shows Cosmos's `dbt ls` fallback.)

Each run:
1. `clinic2zoho migrate --work <fresh temp folder>`: what `make demo` runs (the generated 500-patient
   export against the local Zoho servers, the environment the Makefile exports), its wall time.
2. From that folder's Airflow metadata DB: each DAG run's wall time, both together, and each dbt
   task group's span (earliest start to latest end of its `dbt_mapping.*` task instances); the
   group's dbt build's own time (what its gate task returned, where the build ran in a thread
   beside the watching tasks; else the build task's time), and the span against it: the
   orchestration's cost within one run, free of the plain build's run-to-run noise.
3. A plain `dbt build` of the same project on the same warehouse with the cutover's dbt vars (the
   `land` task's XCom), twice: parsing the project, then from dbt's saved parse (the cutover's build
   starts from the sample's), and the ratio `cutover dbt group span / dbt build` against the second.
   Both are forked from the project's dbt fork server, warmed up first, as the group's build is;
   then, for comparison only, the same build as the `dbt` command (a new interpreter, dbt imported
   anew, as an engineer types it), and the group against it.
4. The parse of each DAG file as Airflow's DAG processor does it (DagBag of the file, then the
   DAGs serialised) in a fresh interpreter that has already imported `airflow.sdk` and
   `airflow.models`, in the environment migrate gave Airflow; whether a dbt subprocess ran and how
   each dbt group was rendered (Cosmos `dbt_graph.load_method`).
5. Airflow's own cost per task: `airflow dags test` (as migrate runs it) of a DAG of empty Python
   tasks, as many as the cutover's dbt group runs after its build task, all after one first task,
   in a fresh Airflow home. From their start to the last one's end is what that many tasks cost
   under `dags test`, which runs one task at a time. Were the watching tasks run after the build,
   this would be the least they added to it (with the plain build from saved parse, the lowest
   ratio such a group could reach); they run beside the build (operators/dbt_background.py), so
   the group's span is the build's time plus what of this cost outlasts it.
With --runs N the medians follow, then one summary block against the issue's targets. The machine's
load average is printed at the start and the end: on a busy machine the figures are upper bounds.

Nothing in the repository is written, except what migrate itself writes into it: a mapping
confirmation (dbt_project/mapping/confirmation.yml) that was not there before is removed after each
run, so every run starts as a fresh checkout's `make demo` does."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIRMATION = ROOT / "dbt_project" / "mapping" / "confirmation.yml"
DAGS = ("clinic_sample_migration", "clinic_cutover")
GROUP_PREFIX = "dbt_mapping."
PRODUCER_TASK = "dbt_producer_watcher"  # cosmos.constants.PRODUCER_WATCHER_TASK_ID
TEST_TASK = "dbt_project_test"  # the group's gate task (operators/dbt_gate.py: reads the build's test results)
# What the Makefile exports for `make demo` (telemetry off, no Airflow examples).
MAKE_ENV = {"DO_NOT_TRACK": "1", "SCARF_NO_ANALYTICS": "true", "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False", "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
# The targets.
TARGET_GROUP_RATIO = 1.3
TARGET_DEMO_S = 90.0
TARGET_DAGS_S = 75.0
TARGET_PARSE_S = 2.0

# Run in a fresh interpreter per DAG file. Setup (untimed): what the DAG processor has loaded before
# it parses a file. Timed: the processor's parse (BundleDagBag of the one file, then each DAG
# serialised). subprocess.Popen is wrapped to see whether anything started dbt (Cosmos's `dbt ls`).
PARSE_CHILD = r"""
import json, os, subprocess, sys, time
from pathlib import Path
import airflow.sdk, airflow.models
from airflow.dag_processing.dagbag import BundleDagBag
from airflow.serialization.serialized_objects import DagSerialization

dag_file = Path(sys.argv[1])
started_commands = []
original_init = subprocess.Popen.__init__
def recording_init(self, args, *a, **k):
    started_commands.append([str(x) for x in args] if isinstance(args, (list, tuple)) else [str(args)])
    original_init(self, args, *a, **k)
subprocess.Popen.__init__ = recording_init

started = time.perf_counter()
bag = BundleDagBag(dag_folder=str(dag_file), bundle_path=dag_file.parent, load_op_links=False)
bagged = time.perf_counter()
for dag in bag.dags.values():
    DagSerialization.to_dict(dag)
done = time.perf_counter()

groups = {}
for dag in bag.dags.values():
    for group_id, group in dag.task_group_dict.items():
        graph = getattr(group, "dbt_graph", None)
        if graph is not None:
            method = getattr(graph, "load_method", None)
            groups[f"{dag.dag_id}:{group_id}"] = {
                "load_method": getattr(method, "value", str(method)),
                "tasks": sum(1 for t in dag.task_ids if t.startswith(group_id + ".")),
            }
dbt_runs = [c for c in started_commands if c and Path(c[0]).name == "dbt"]
print("@@RESULT@@" + json.dumps({
    "bag_s": bagged - started, "serialise_s": done - bagged, "parse_s": done - started,
    "dags": sorted(bag.dags), "errors": {k: v.splitlines()[-1] if v else "" for k, v in bag.import_errors.items()},
    "dbt_subprocesses": [" ".join(c[:3]) for c in dbt_runs], "groups": groups,
}))
"""


# Step 5: empty Python tasks, all after one first task (the cheapest schedule for `dags test`: every
# one of them is ready at once), {count} of them.
FLOOR_DAG = """
import pendulum
from airflow.sdk import DAG, task


@task
def step():
    return None


with DAG("airflow_task_floor", schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False):
    first = step.override(task_id="first")()
    for index in range({count}):
        first >> step.override(task_id=f"after_{{index}}")()
"""


# --------------------------------------------------------------------------------------- helpers
def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min, {os.cpu_count()} cores)"


def seconds_between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def read_db(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def xcom_value(raw: object) -> object:
    """An XCom value as stored by Airflow 3 (JSON, at times a JSON string holding JSON)."""
    value = raw.decode() if isinstance(raw, bytes) else raw
    for _ in range(2):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                break
    return value


# --------------------------------------------------------------------------------------- 1. migrate
def run_migrate(work: Path) -> tuple[float, int, Path]:
    """`clinic2zoho migrate --work <work>` from the repository root, as `make demo` runs it
    (no SOURCE: the generated export). Output to <work>.migrate.log (beside it: migrate refuses
    nothing there, but keeps the work folder as migrate leaves it)."""
    log = work.with_name(work.name + ".migrate.log")
    env = {**os.environ, **MAKE_ENV}
    env.pop("CLINIC2ZOHO_HOME", None)  # --work decides
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.run([str(ROOT / ".venv" / "bin" / "clinic2zoho"), "migrate", "--work", str(work)],
                              cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    return time.perf_counter() - started, proc.returncode, log


# --------------------------------------------------------------------------------------- 2. the DAG runs
def dag_runs(db: Path) -> dict[str, dict]:
    """The latest run of each demo DAG: its wall time, run id, state and the span of its dbt group."""
    found: dict[str, dict] = {}
    for dag_id in DAGS:
        rows = read_db(db, "SELECT run_id, start_date, end_date, state FROM dag_run WHERE dag_id = ? "
                           "ORDER BY start_date DESC LIMIT 1", (dag_id,))
        if not rows:
            continue
        run_id, start, end, state = rows[0]
        tasks = read_db(db, "SELECT task_id, start_date, end_date FROM task_instance WHERE dag_id = ? "
                            "AND run_id = ? AND task_id LIKE ?", (dag_id, run_id, GROUP_PREFIX + "%"))
        starts = [a for _, a, b in tasks if a and b]
        ends = [b for _, a, b in tasks if a and b]
        span = seconds_between(min(starts), max(ends)) if starts else None
        # Where the span goes (Cosmos watcher mode): the build task (under `dags test` it starts the
        # one `dbt build` of seeds, models and tests in a thread and returns), the gate task (which
        # waits for the build's end there), and the rest, the watching tasks one after another,
        # beside the build (operators/dbt_background.py).
        took = {t: seconds_between(a, b) for t, a, b in tasks}
        build = took.get(GROUP_PREFIX + PRODUCER_TASK)
        tests = took.get(GROUP_PREFIX + TEST_TASK)
        # the dbt build's own time: what the gate task returned where the build ran in a thread of
        # its own (operators/dbt_gate.py), else the build task's
        gate = read_db(db, "SELECT value FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = ? "
                           "AND key = 'return_value'", (dag_id, run_id, GROUP_PREFIX + TEST_TASK))
        returned = xcom_value(gate[0][0]) if gate else None
        dbt_s = returned.get("build_seconds", build) if isinstance(returned, dict) else build
        found[dag_id] = {"run_id": run_id, "state": state, "wall_s": seconds_between(start, end),
                         "group_span_s": span, "group_tasks": len(tasks), "group_tasks_ran": len(starts),
                         "producer_s": build, "test_task_s": tests, "group_dbt_s": dbt_s,
                         "beyond_build_s": span - dbt_s if None not in (span, dbt_s) else None,
                         "watchers_s": span - build - tests if None not in (span, build, tests) else None}
    return found


def cutover_dbt_vars(db: Path, run_id: str) -> dict[str, str]:
    """The dbt vars the cutover's dbt group rendered from the `land` task's XCom (the keys of
    clinic_tasks.dbt_mapping_group's `common["vars"]`)."""
    from clinic2zoho.orchestration.steps import FILE_VARS

    rows = read_db(db, "SELECT value FROM xcom WHERE dag_id = 'clinic_cutover' AND run_id = ? "
                       "AND task_id = 'land' AND key = 'return_value'", (run_id,))
    if not rows:
        raise RuntimeError(f"no XCom of the land task in run {run_id}")
    landed = xcom_value(rows[0][0])
    if not isinstance(landed, dict):
        raise RuntimeError(f"the land task's XCom is not a dict: {type(landed).__name__}")
    # Cosmos renders each var through Jinja: a missing key becomes an empty string
    return {key: str(landed.get(key) or "") for key in ("clinic_timezone", "document_url_base", *FILE_VARS)}


# --------------------------------------------------------------------------------------- 3. dbt build
def plain_dbt_build(work: Path, dbt_vars: dict[str, str], as_typed: bool = False) -> dict:
    """run_dbt's `dbt build`: forked from this process's warm dbt fork server, as the group's build
    forks from the one its DAG run started; `as_typed`: the `dbt` executable, a new interpreter, as
    an engineer runs it in a terminal (run_dbt takes it while the server is held)."""
    from clinic2zoho.transform import dbt_process
    from clinic2zoho.transform.dbt_runner import run_dbt, target_dir

    warehouse = work / "warehouse.duckdb"
    warm = (target_dir(warehouse) / "partial_parse.msgpack").is_file()
    with dbt_process._lock if as_typed else contextlib.nullcontext():
        result = run_dbt(["build"], warehouse=warehouse, vars=dbt_vars)
    return {"build_s": result.elapsed_s, "ok": result.success, "nodes": len(result.node_status),
            "partial_parse": warm, "errors": [e.name for e in result.errors][:5]}


def warm_fork_server(work: Path) -> None:
    """Have this process's dbt fork server started and warmed up before a plain build is timed, as
    the group's build forks from a server its DAG run started and warmed ahead
    (listeners/dbt_server.py). Otherwise the first run's builds waited for the server's start and
    warm-up (1.0 to 1.2 s) and the later runs', forked from the same server, did not."""
    from clinic2zoho.transform import dbt_process

    dbt_process.start_server()
    code, output = dbt_process.run_dbt_command(["--version"], {"PATH": os.environ.get("PATH", ""), **MAKE_ENV}, work)
    if code != 0:
        raise RuntimeError(f"dbt --version through the fork server: exit {code}: {output[-300:]}")


# --------------------------------------------------------------------------------------- 4. DAG parse
def parse_env(work: Path) -> dict[str, str]:
    """The environment migrate gave Airflow (orchestration.local_airflow.airflow_env), without the
    Zoho Connections (secrets; the DAG files do not read them at parse)."""
    from clinic2zoho.orchestration.local_airflow import airflow_env

    fmt = json.loads((work / "migration.json").read_text())["format"]
    return airflow_env(work, "WARNING", {}, fmt)


def parse_dag_files(work: Path) -> dict[str, dict]:
    env = parse_env(work)
    found: dict[str, dict] = {}
    for dag_file in sorted((ROOT / "dags").glob("*.py")):
        proc = subprocess.run([sys.executable, "-c", PARSE_CHILD, str(dag_file)], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=False)
        line = next((x for x in proc.stdout.splitlines() if x.startswith("@@RESULT@@")), None)
        if line is None:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
            found[dag_file.name] = {"parse_s": None, "failed": f"exit {proc.returncode}: {tail}"}
        else:
            found[dag_file.name] = json.loads(line[len("@@RESULT@@"):])
    return found


# --------------------------------------------------------------------------------------- 5. Airflow's floor
def airflow_task_floor(count: int, fmt: str) -> dict:
    """`airflow dags test` of FLOOR_DAG with `count` tasks after the first, in a fresh Airflow home
    (migrate's environment: orchestration.local_airflow); the span from the first task's end to the
    last task's end, over `count`."""
    from clinic2zoho.orchestration.local_airflow import airflow_env, init_airflow, run_dag
    from clinic2zoho.orchestration.redacted_output import Redactor

    with tempfile.TemporaryDirectory(prefix="bench_airflow_floor_") as scratch:
        home, dags = Path(scratch) / "work", Path(scratch) / "dags"
        (home / "logs").mkdir(parents=True)
        dags.mkdir()
        (dags / "airflow_task_floor.py").write_text(FLOOR_DAG.format(count=count))
        env = {**airflow_env(home, "WARNING", {}, fmt), **MAKE_ENV, "AIRFLOW__CORE__DAGS_FOLDER": str(dags)}
        init_airflow(env, home / "logs", Redactor([]))
        outcome = run_dag("airflow_task_floor", {}, env, home / "logs", Redactor([]))
        rows = read_db(home / "airflow" / "airflow.db", "SELECT task_id, start_date, end_date FROM task_instance "
                       "WHERE dag_id = 'airflow_task_floor' AND run_id = ?", (outcome.run_id,))
    ends = {task: end for task, _, end in rows}
    after = [end for task, _, end in rows if task != "first" and end]
    span = seconds_between(ends.get("first"), max(after)) if after and ends.get("first") else None
    return {"state": outcome.state, "tasks": len(after), "span_s": span, "run_s": outcome.seconds}


# --------------------------------------------------------------------------------------- one run
def measure(work: Path, migrate: bool) -> dict:
    """Steps 1-4 on one work folder; the figures by name (None where a step could not run)."""
    figures: dict = {"work": str(work)}
    if migrate:
        wall, code, log = run_migrate(work)
        figures.update(migrate_s=wall, migrate_exit=code, migrate_log=str(log))
        print(f"  migrate: exit {code} in {wall:.1f} s (log {log})")
        if code != 0:
            print("    " + "\n    ".join(log.read_text(errors="replace").strip().splitlines()[-8:]))
    db = work / "airflow" / "airflow.db"
    if not db.is_file():
        print(f"  no Airflow metadata DB at {db}: nothing more to measure")
        return figures
    runs = dag_runs(db)
    for dag_id, run in runs.items():
        figures[f"{dag_id}_s"] = run["wall_s"]
        figures[f"{dag_id}_group_s"] = run["group_span_s"]
        print(f"  {dag_id} ({run['state']}): wall {fmt_s(run['wall_s'])}; dbt group span "
              f"{fmt_s(run['group_span_s'])} over {run['group_tasks_ran']} of {run['group_tasks']} tasks "
              f"(its build task {fmt_s(run['producer_s'])}, gate task {fmt_s(run['test_task_s'])}, "
              f"watching tasks and gaps {fmt_s(run['watchers_s'])}; the dbt build itself {fmt_s(run['group_dbt_s'])}, "
              f"the group beyond it {fmt_s(run['beyond_build_s'])})")
        figures[f"{dag_id}_producer_s"] = run["producer_s"]
        figures[f"{dag_id}_group_dbt_s"] = run["group_dbt_s"]
        figures[f"{dag_id}_beyond_build_s"] = run["beyond_build_s"]
        if run["group_span_s"] and run["group_dbt_s"]:
            figures[f"{dag_id}_own_build_ratio"] = run["group_span_s"] / run["group_dbt_s"]
        figures[f"{dag_id}_test_task_s"] = run["test_task_s"]
        figures[f"{dag_id}_watchers_s"] = run["watchers_s"]
        if dag_id == "clinic_cutover":
            figures["group_tasks"] = run["group_tasks"]
    if all(runs.get(d, {}).get("wall_s") is not None for d in DAGS):
        figures["dags_s"] = sum(runs[d]["wall_s"] for d in DAGS)
        if migrate:
            figures["outside_dags_s"] = figures["migrate_s"] - figures["dags_s"]
        print(f"  both DAG runs: {figures['dags_s']:.1f} s"
              + (f" (migrate outside them: {figures['outside_dags_s']:.1f} s)" if migrate else ""))
    cutover = runs.get("clinic_cutover")
    if cutover:
        dbt_vars = cutover_dbt_vars(db, cutover["run_id"])
        load_before = os.getloadavg()[0]
        # twice: the first parses the project (as the sample's build did), the second starts from
        # dbt's saved parse (as the cutover's build does, sharing the sample's): the ratio is taken
        # against the second, the like-for-like and the stricter of the two
        warm_fork_server(work)
        builds = [plain_dbt_build(work, dbt_vars) for _ in range(2)]
        figures["dbt_build_s"], figures["dbt_build_warm_s"] = builds[0]["build_s"], builds[1]["build_s"]
        # the group ran minutes earlier: the load then and now tells how comparable the two are
        for build in builds:
            print(f"  plain dbt build: {build['build_s']:.1f} s ({'ok' if build['ok'] else 'FAILED ' + str(build['errors'])}, "
                  f"{build['nodes']} nodes, partial parse {'warm' if build['partial_parse'] else 'cold'}; "
                  f"1-min load {load_before:.1f} before, {os.getloadavg()[0]:.1f} after)")
        typed = plain_dbt_build(work, dbt_vars, as_typed=True)
        figures["dbt_command_s"] = typed["build_s"]
        print(f"  the `dbt build` command (a new interpreter, as typed in a terminal; saved parse): "
              f"{typed['build_s']:.1f} s ({'ok' if typed['ok'] else 'FAILED ' + str(typed['errors'])})")
        if cutover["group_span_s"] is not None:
            figures["group_ratio"] = cutover["group_span_s"] / builds[1]["build_s"]
            figures["group_ratio_cold"] = cutover["group_span_s"] / builds[0]["build_s"]
            figures["group_ratio_command"] = cutover["group_span_s"] / typed["build_s"]
            print(f"  cutover dbt group / dbt build: {figures['group_ratio']:.2f} against the build from dbt's saved "
                  f"parse, {figures['group_ratio_cold']:.2f} against the first (target <= {TARGET_GROUP_RATIO}); "
                  f"{figures['group_ratio_command']:.2f} against the `dbt build` command")
        # Airflow's floor for the tasks the group runs after its build (watching tasks, gate, marker)
        after_build = cutover["group_tasks_ran"] - 1
        fmt = json.loads((work / "migration.json").read_text())["format"]
        floor = airflow_task_floor(after_build, fmt)
        if floor["state"] == "success" and floor["span_s"] is not None:
            figures["floor_s"] = floor["span_s"]
            figures["floor_task_ms"] = 1000 * floor["span_s"] / floor["tasks"]
            figures["floor_ratio"] = (builds[1]["build_s"] + floor["span_s"]) / builds[1]["build_s"]
            print(f"  Airflow's floor: {floor['tasks']} empty tasks after a first one took {floor['span_s']:.1f} s "
                  f"under `airflow dags test` ({figures['floor_task_ms']:.0f} ms a task; the run {floor['run_s']:.1f} s); "
                  f"the group's watching tasks and gaps took {fmt_s(cutover['watchers_s'])}; "
                  f"the ratio a group of {after_build} tasks run after its build could not go below here: "
                  f"{figures['floor_ratio']:.2f}")
        else:
            print(f"  Airflow's floor: the empty DAG's run ended {floor['state']}")
    parsed = parse_dag_files(work)
    figures["parse"] = {}
    for name, result in parsed.items():
        if result.get("parse_s") is None:
            print(f"  parse {name}: FAILED {result['failed']}")
            continue
        figures["parse"][name] = result["parse_s"]
        methods = ", ".join(f"{g} {v['load_method']} ({v['tasks']} tasks)" for g, v in result["groups"].items())
        dbt = "; dbt subprocess: " + (", ".join(result["dbt_subprocesses"]) or "none")
        errors = f"; IMPORT ERRORS {result['errors']}" if result["errors"] else ""
        print(f"  parse {name}: {result['parse_s']:.2f} s (DagBag {result['bag_s']:.2f} + serialise "
              f"{result['serialise_s']:.2f}){dbt}{'; ' + methods if methods else ''}{errors}")
        for group, info in result["groups"].items():
            if group == "clinic_cutover:dbt_mapping":
                figures["cutover_load_method"] = info["load_method"]
        if result["dbt_subprocesses"]:
            figures["dbt_at_parse"] = figures.get("dbt_at_parse", 0) + len(result["dbt_subprocesses"])
    figures.setdefault("dbt_at_parse", 0)
    return figures


def fmt_s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


# --------------------------------------------------------------------------------------- summary
def median(runs: list[dict], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def parse_medians(runs: list[dict]) -> dict[str, float]:
    names = sorted({n for r in runs for n in r.get("parse", {})})
    return {n: statistics.median([r["parse"][n] for r in runs if n in r.get("parse", {})]) for n in names}


def verdict(value: float | None, target: float, strict: bool = False) -> str:
    if value is None:
        return "n/a"
    ok = value < target if strict else value <= target
    return "meets" if ok else "MISSES"


def summary(runs: list[dict], load_start: str) -> None:
    n = len(runs)
    print(f"\n=== medians over {n} run(s) ===")
    for key, label in (("migrate_s", "migrate (make demo) wall"), ("clinic_sample_migration_s", "clinic_sample_migration wall"),
                       ("clinic_cutover_s", "clinic_cutover wall"), ("dags_s", "both DAG runs"),
                       ("outside_dags_s", "migrate outside the DAG runs"),
                       ("clinic_sample_migration_group_s", "sample dbt group span"),
                       ("clinic_cutover_group_s", "cutover dbt group span"),
                       ("clinic_cutover_producer_s", "  its build task (starts the build)"),
                       ("clinic_cutover_test_task_s", "  its gate task (waits for its end)"),
                       ("clinic_cutover_watchers_s", "  its watching tasks and gaps"),
                       ("clinic_cutover_group_dbt_s", "  its dbt build itself"),
                       ("clinic_cutover_beyond_build_s", "  the group beyond its build"),
                       ("clinic_cutover_own_build_ratio", "  the group / its own build"),
                       ("dbt_build_s", "plain dbt build, parsing"),
                       ("dbt_build_warm_s", "plain dbt build, from saved parse"),
                       ("group_ratio", "cutover dbt group / dbt build"),
                       ("group_ratio_cold", "  against the parsing build"),
                       ("dbt_command_s", "the `dbt build` command"),
                       ("group_ratio_command", "  the group against it"),
                       ("floor_s", "Airflow's floor, those tasks empty"),
                       ("floor_task_ms", "  a task"),
                       ("floor_ratio", "  the ratio were they after the build")):
        value = median(runs, key)
        shown = ("n/a" if value is None else f"{value:.2f}" if key.endswith(("_ratio", "_ratio_cold", "_ratio_command"))
                 else f"{value:.0f} ms" if key.endswith("_ms") else f"{value:.1f} s")
        print(f"  {label:34} {shown}")
    parse = parse_medians(runs)
    for name, value in parse.items():
        print(f"  parse {name:28} {value:.2f} s")

    ratio, demo, dags = median(runs, "group_ratio"), median(runs, "migrate_s"), median(runs, "dags_s")
    own = median(runs, "clinic_cutover_own_build_ratio")
    worst_parse = max(parse.values()) if parse else None
    methods = sorted({r.get("cutover_load_method", "n/a") for r in runs})
    dbt_at_parse = sum(r.get("dbt_at_parse", 0) for r in runs)
    group_tasks = sorted({r["group_tasks"] for r in runs if "group_tasks" in r})
    print(f"\n=== issue 17 targets ({n} run(s), medians; upper bounds on a loaded machine) ===")
    print(f"  cutover dbt group <= {TARGET_GROUP_RATIO}x one dbt build: "
          f"{'n/a' if ratio is None else f'{ratio:.2f}x'} {verdict(ratio, TARGET_GROUP_RATIO)}"
          f" (group of {', '.join(map(str, group_tasks)) or '?'} tasks; run after the build, Airflow alone "
          f"{'n/a' if median(runs, 'floor_ratio') is None else format(median(runs, 'floor_ratio'), '.2f') + 'x'}; "
          f"against its own build in the same run {'n/a' if own is None else format(own, '.2f') + 'x'})")
    print(f"  make demo <= {TARGET_DEMO_S:.0f} s after install:      {fmt_s(demo)} {verdict(demo, TARGET_DEMO_S)}")
    print(f"  both DAG runs <= {TARGET_DAGS_S:.0f} s:              {fmt_s(dags)} {verdict(dags, TARGET_DAGS_S)}")
    print(f"  parse < {TARGET_PARSE_S:.0f} s per DAG file:             worst {fmt_s(worst_parse)} "
          f"{verdict(worst_parse, TARGET_PARSE_S, strict=True)}; cutover dbt group rendered by {', '.join(methods)}; "
          f"dbt subprocesses at parse: {dbt_at_parse}")
    print(f"  load average: start {load_start}; end {load_average()}")


# --------------------------------------------------------------------------------------- command
def new_untracked_confirmation(existed_before: bool) -> None:
    """Remove the mapping confirmation migrate wrote into the repository, if it was not there
    before the benchmark and git does not track it."""
    if existed_before or not CONFIRMATION.is_file():
        return
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", str(CONFIRMATION)], cwd=ROOT,
                             capture_output=True, check=False).returncode == 0
    if not tracked:
        CONFIRMATION.unlink()
        print(f"  removed {CONFIRMATION.relative_to(ROOT)} (written by migrate; not there before)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="how many runs (each a full migrate)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work folders")
    parser.add_argument("--reuse", type=Path, default=None,
                        help="a work folder migrate already ran in: steps 2-4 on it, once (no migrate)")
    args = parser.parse_args()
    load_start = load_average()
    print(f"load average at start: {load_start}")
    confirmation_before = CONFIRMATION.is_file()
    runs: list[dict] = []
    if args.reuse:
        print(f"\nrun 1/1 on {args.reuse} (no migrate)")
        runs.append(measure(args.reuse.resolve(), migrate=False))
        summary(runs, load_start)
        return 0
    scratch = Path(tempfile.mkdtemp(prefix="bench_orchestration_"))
    try:
        for index in range(args.runs):
            work = scratch / f"run{index + 1}"
            print(f"\nrun {index + 1}/{args.runs}: work folder {work} (load average {load_average()})")
            try:
                runs.append(measure(work, migrate=True))
            finally:
                new_untracked_confirmation(confirmation_before)
    finally:
        if args.keep:
            print(f"\nwork folders kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    summary(runs, load_start)
    return 0 if all(r.get("migrate_exit") == 0 for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
