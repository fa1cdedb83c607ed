"""`clinic2zoho migrate` — the whole migration on one machine, what `make demo` runs.

On the default generated export (fixed seed) or `--source DIR --format F`: starts two local Zoho
servers (production and sandbox orgs, users seeded to match the export), points the Airflow
Connections `zoho_default` / `zoho_sandbox` at them, proposes the mapping if there is none for the
format and confirms it on the record (`--confirm-by`, default `demo`) when nothing was confirmed
yet, decides as the same person the duplicate patient pairs nobody decided (ensure_duplicate_decisions),
then runs the DAGs clinic_sample_migration and clinic_cutover with `airflow dags test`
(SQLite metadata DB under the work folder), signing off the sample on the record as the same
person between them (never over a person's decision, nor a diff with mismatches:
orchestration.signoff.sign_off_on_record), stops the servers and says where the reports are,
when the delta window the cutover opened closes, and how to undo the cutover. `--delta` runs the
DAG clinic_delta once instead (`clinic2zoho.delta.demo`).

Airflow runs in child processes (include/ never imports Airflow); their output goes to
`<work>/logs/<dag>.log`. A mapping changed since its confirmation is not confirmed again here:
the DAGs' gate stops the run and says how to reconfirm."""

from __future__ import annotations

import argparse
import csv
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

DEFAULT_PATIENTS = 500
DEFAULT_SEED = 7
# Demo inputs a clinic would add for the shared sample exports (see demo/README.md).
DEMO_INPUTS = {"synthea_csv_ma27": "synthea_ma27", "fhir_bulk_ndjson_10": "fhir_bulk_ndjson_10"}
DAGS = ("clinic_sample_migration", "clinic_cutover")
TELEMETRY = {"DO_NOT_TRACK": "1", "SCARF_NO_ANALYTICS": "true", "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
             "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False"}
FINISHED = {"success", "failed", "upstream_failed", "skipped", "removed"}


class MigrateError(RuntimeError):
    pass


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", type=Path, default=None,
                        help="export folder (default: a generated export of --patients patients)")
    parser.add_argument("--format", dest="fmt", default=None, choices=("generic", "synthea", "fhir"),
                        help="the export's format (default: detected; a folder of CSV files in another layout is "
                             "generic, read through its source map)")
    parser.add_argument("--patients", type=int, default=DEFAULT_PATIENTS, help="size of the generated export")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the generated export")
    parser.add_argument("--users", type=Path, default=None, help="the org's users JSON (default: the demo's)")
    parser.add_argument("--overrides", type=Path, default=None, help="provider_id,email CSV (default: the demo's)")
    parser.add_argument("--merges", type=Path, default=None,
                        help="confirmed patient merges CSV (recorded among the work folder's decisions)")
    parser.add_argument("--work", type=Path, default=None, help="work folder (default: CLINIC2ZOHO_HOME or ./work)")
    parser.add_argument("--confirm-by", default="demo",
                        help="who confirms a mapping never confirmed and decides duplicate pairs nobody decided "
                             "(on the record)")
    parser.add_argument("--skip-sample", action="store_true", help="run the cutover only")
    parser.add_argument("--delta", action="store_true",
                        help="run the DAG clinic_delta once: carry changes made to the export since the cutover "
                             "into the work folder's production org, while the delta window is open")
    parser.add_argument("--edition", default=None,
                        help="the Zoho edition to plan credits and concurrency with (default: read from each org)")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="Airflow and task log level (in the logs folder)")


@dataclass
class Inputs:
    source: Path
    fmt: str
    users: Path
    overrides: Path | None
    merges: Path | None
    generated: bool = False


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


# ---------------------------------------------------------------------------------------- inputs
def resolve_inputs(args: argparse.Namespace, home: Path, say) -> Inputs:
    if args.source is None:
        from clinic2zoho.generator import generate_export

        out = home / "generated"
        marker = out / "generated.json"
        wanted = {"patients": args.patients, "seed": args.seed}
        if not (marker.is_file() and json.loads(marker.read_text()) == wanted):
            say(f"generating a clinic export of {args.patients} patients (seed {args.seed})")
            generate_export(out, args.patients, seed=args.seed)
            marker.write_text(json.dumps(wanted))
        return Inputs(out / "export", "generic", args.users or out / "zoho_users.json",
                      args.overrides or out / "provider_email_overrides.csv", args.merges, generated=True)
    source = args.source.resolve()
    if not source.is_dir():
        raise MigrateError(f"--source {args.source}: no such folder")
    from clinic2zoho.landing import LandingError, detect_format

    try:
        fmt = args.fmt or detect_format(source)
    except LandingError as exc:
        raise MigrateError(str(exc)) from exc
    # the org's users and the provider e-mail fixes: given, or the demo's for a shared export; never
    # read from beside the export (nothing outside the export folder is read unless named)
    demo = settings.PROJECT_ROOT / "demo" / DEMO_INPUTS.get(source.name, source.name)
    users = args.users or (demo / "zoho_users.json" if (demo / "zoho_users.json").is_file() else None)
    if users is None:
        raise MigrateError(f"no users file for {source.name}: give --users (the Zoho org's users, "
                           "[{\"id\", \"email\", \"full_name\", \"status\"}]) and usually --overrides "
                           "(make demo: USERS=FILE OVERRIDES=FILE)")
    overrides = args.overrides or (demo / "provider_email_overrides.csv"
                                   if (demo / "provider_email_overrides.csv").is_file() else None)
    return Inputs(source, fmt, users.resolve(), overrides.resolve() if overrides else None,
                  args.merges.resolve() if args.merges else None)


def claim_work_folder(home: Path, inputs: Inputs) -> None:
    """A work folder holds one clinic's migration (its warehouse, Zoho orgs, journal): the first
    run records its export there, and a run of another export is refused rather than landed
    beside it into the same warehouse and orgs."""
    record = home / "migration.json"
    this = {"source": "generated" if inputs.generated else str(inputs.source), "format": inputs.fmt}
    if record.is_file():
        earlier = json.loads(record.read_text())
        if earlier != this:
            raise MigrateError(
                f"work folder {_rel(home)} holds the migration of {earlier['source']} ({earlier['format']}); "
                f"{this['source']} ({this['format']}) needs a work folder of its own: --work DIR "
                "(make demo: WORK=DIR), or `make clean` to start over")
        return
    record.write_text(json.dumps(this) + "\n")


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


def start_servers(home: Path, users: Path) -> dict[str, Any]:
    """Production and sandbox orgs, each with its own port and state file (kept between runs, as
    the load journal is: a rerun updates the records it loaded before)."""
    from clinic2zoho.zoho_server.work_orgs import ORGS, start_local_org

    servers: dict[str, Any] = {}
    try:
        for org in ORGS:
            servers[org] = start_local_org(home, org, users)
    except Exception:
        for server in servers.values():
            server.close()
        raise
    return servers


# ------------------------------------------------------------------------------------ the mapping
def ensure_mapping(inputs: Inputs, warehouse: Path, client: Any, confirm_by: str, say) -> str:
    """Propose the mapping for the format when there is none, and confirm on the record when
    nothing was ever confirmed. Returns what the gate will find."""
    from clinic2zoho.landing import land_export
    from clinic2zoho.mapping import confirmation, files
    from clinic2zoho.mapping.propose_command import propose_mapping

    dbt_dir = files.dbt_project_dir()
    had_confirmation = confirmation.read_confirmation(dbt_dir) is not None
    matched_before = _gate_passes(dbt_dir)
    proposed = False
    from clinic2zoho.mapping.propose_command import propose_source

    if found := propose_source(inputs.source, dbt_dir):
        path, review, doc = found
        say(f"the export's layout is not the generic one: proposed its source map {_rel(path)} (review page "
            f"{_rel(review)}; time zone {doc.get('timezone')})")
        proposed = True
    if not files.mapping_path(inputs.fmt, dbt_dir).is_file():
        say(f"no mapping for {inputs.fmt} yet: landing the export and proposing one")
        land_export(inputs.source, inputs.fmt, warehouse=warehouse)
        path, review, _ = propose_mapping(inputs.fmt, warehouse, dbt_dir, client)
        say(f"proposed {_rel(path)} (review page {_rel(review)})")
        proposed = True
    if not had_confirmation or (proposed and matched_before):
        record = confirmation.confirm(confirm_by, dbt_dir)
        say(f"mapping confirmed on the record by {record.confirmed_by!r} (hash {record.hash[:12]})")
        return "confirmed"
    if _gate_passes(dbt_dir):
        return "confirmed"
    say("the mapping changed since it was confirmed: the DAGs' gate will stop before anything moves")
    return "changed"


def ensure_duplicate_decisions(inputs: Inputs, warehouse: Path, home: Path, decided_by: str, say) -> dict[str, str]:
    """The duplicate pairs of the Data Quality Report (the export landed and scored here, as the
    DAGs will again) that need a decision and have none are decided on the record by
    `decided_by`, as a mapping never confirmed is confirmed (quality.demo_decisions: one person,
    the record with more history survives), and printed; a person's decisions stand. `--merges`
    rows are recorded first. Returns the DAG conf's decision files."""
    from clinic2zoho.landing import land_export
    from clinic2zoho.orchestration.steps import DECISION_FILES
    from clinic2zoho.quality import QualityError, build_quality_report, candidates, decisions, demo_decisions

    where = decisions.folder(home)
    try:
        if inputs.merges:
            given = decisions.read(where, merges_file=inputs.merges)
            by_person: dict[str, list[tuple[str, str]]] = {}
            for row in given.merges.values():
                by_person.setdefault(row["decided_by"] or f"merges file {inputs.merges.name}", []).append(
                    (row["duplicate_patient_id"], row["surviving_patient_id"]))
            for person, merges in sorted(by_person.items()):
                decisions.record(where, merges=merges, by=person)
        land_export(inputs.source, inputs.fmt, warehouse=warehouse)
        build_quality_report(warehouse)
        pairs = candidates.read(warehouse, needing_decision=True)
        merges, left = demo_decisions.decide(pairs, decisions.read(where))
        if merges:
            decisions.record(where, merges=[(m.duplicate, m.survivor) for m in merges], by=decided_by)
    except (decisions.DecisionError, QualityError) as exc:
        raise MigrateError(f"duplicate patients: {exc}") from exc
    if merges:
        say(f"duplicate patients: {len(merges)} merge(s) decided on the record by {decided_by!r} for the "
            f"pairs the Data Quality Report scores as one person (the record with more history survives):")
        for m in merges:
            say(f"  {m.duplicate} into {m.survivor} ({m.duplicate_records} vs {m.survivor_records} records)")
        say(f"  recorded in {_rel(where)}; to undo one: clinic2zoho resolve-duplicates --distinct A,B "
            f"--by NAME --work {shlex.quote(_rel(home))}")
    elif pairs and not left:
        say(f"duplicate patients: the {len(pairs)} pair(s) needing a decision were decided before")
    if left:
        say(f"duplicate patients: {len(left)} pair(s) left to a person ({', '.join(f'{a}~{b}' for a, b in left[:5])}"
            f"{', ...' if len(left) > 5 else ''}): the dbt gate will stop until each is decided")
    return {key: str(where / name) for key, name in DECISION_FILES.items() if (where / name).is_file()}


def sample_signed_off(home: Path, outcomes: list[DagOutcome], by: str, say) -> bool:
    """Before the cutover: the sample run just made is signed off on the record as `by` (as the
    mapping is confirmed), unless a person decided on it already (their decision stands) or its
    diff has mismatches (left to a person); with no sample run here, a sign-off on record must
    match the mapping as confirmed now. Prints what it did; False stops before the cutover."""
    from clinic2zoho.orchestration import signoff

    sample = next((o for o in outcomes if o.dag_id == "clinic_sample_migration" and o.ok), None)
    if sample is None:
        try:
            record = signoff.require_signoff(home, task="the cutover")
        except (signoff.SampleNotSignedOff, signoff.SignOffError, RuntimeError) as exc:
            say(str(exc))
            return False
        say(f"sample run {record.run} signed off by {record.by} at {record.at} (on record)")
        return True
    ok, lines = signoff.sign_off_on_record(home, sample.run_id, by)
    for line in lines:
        say(line)
    return ok


def _gate_passes(dbt_dir: Path) -> bool:
    from clinic2zoho.mapping.gate import MappingNotConfirmed, require_confirmed

    try:
        require_confirmed(dbt_dir)
        return True
    except MappingNotConfirmed:
        return False


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


# ------------------------------------------------------------------------------------ summary
def journal_id(run_id: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)


def summarise(outcomes: list[DagOutcome], reports: Path) -> list[str]:
    lines = []
    for o in outcomes:
        lines.append(f"{o.dag_id}: {o.state} in {o.seconds:.0f} s (run {o.run_id})")
        load = reports / f"load_{journal_id(o.run_id)}.json"
        if load.is_file():
            data = json.loads(load.read_text())
            loaded = sum(m["done"] for m in data["modules"])
            rejected = sum(m["rejected"] for m in data["modules"])
            pred = (data.get("predicted") or {}).get("credits", "n/a")
            lines.append(f"  loaded {loaded} records ({rejected} rejected) in {len(data['modules'])} modules;"
                         f" {data['credits_spent']} credits (predicted {pred})")
        if o.dag_id == "clinic_sample_migration" and (reports / "sample_diff.csv").is_file():
            with open(reports / "sample_diff.csv", encoding="utf-8") as fh:
                statuses = [row["status"] for row in csv.DictReader(fh)]
            lines.append(f"  sample diff: {len(statuses)} fields compared, "
                         f"{sum(1 for s in statuses if s != 'match')} not matching")
        if o.dag_id == "clinic_cutover" and (reports / "reconciliation.json").is_file():
            summary = json.loads((reports / "reconciliation.json").read_text()).get("summary", {})
            lines.append(f"  validation: {summary.get('status', '?')}")
    return lines


def undo_command(run_id: str, home: Path) -> str:
    """The rollback of a run as printed: --work finds the folder's journal and warehouse and, with no
    ZOHO_* variables set, starts its local orgs from their saved state (no credential printed)."""
    return f"clinic2zoho rollback --run {run_id} --work {shlex.quote(_rel(home))}"


def _rel(path: Path | str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------------------------ command
def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console()
    # soft_wrap: a line is never broken, so a printed command is copied and run as printed
    say = lambda text: console.print(text, highlight=False, soft_wrap=True)  # noqa: E731
    started = time.monotonic()
    home = settings.owner_only((args.work or Path(os.environ.get("CLINIC2ZOHO_HOME", "work"))).resolve())
    os.environ["CLINIC2ZOHO_HOME"] = str(home)
    os.environ.pop("CLINIC2ZOHO_WAREHOUSE", None)
    os.environ.pop("CLINIC2ZOHO_REPORTS", None)
    logs = home / "logs"
    logs.mkdir(exist_ok=True)
    reports = settings.reports_dir()
    if args.delta:
        from clinic2zoho.delta.demo import run_once

        return run_once(home, _rel(home), args.log_level, say, console)
    try:
        inputs = resolve_inputs(args, home, say)
        claim_work_folder(home, inputs)
    except MigrateError as exc:
        console.print(f"[red]{exc}[/red]")
        return 2
    say(f"work folder {_rel(home)}; export {_rel(inputs.source)} ({inputs.fmt})")
    servers = start_servers(home, inputs.users)
    outcomes: list[DagOutcome] = []
    unsigned = False
    try:
        from clinic2zoho.zoho import ZohoClient
        from clinic2zoho.zoho.connection import connection_json

        given = getattr(args, "edition", None)
        configs = {org: zoho_config(server, given) for org, server in servers.items()}
        say(f"local Zoho servers: production {servers['production'].base_url} ({configs['production'].edition}, "
            f"{configs['production'].user_count} users), sandbox {servers['sandbox'].base_url} "
            f"({configs['sandbox'].edition}){' as given' if given else ', editions read from the orgs'}")
        with ZohoClient(configs["production"]) as client:
            ensure_mapping(inputs, settings.warehouse_path(), client, args.confirm_by, say)
        decided = ensure_duplicate_decisions(inputs, settings.warehouse_path(), home, args.confirm_by, say)
        env = airflow_env(home, args.log_level, {"zoho_default": connection_json(configs["production"]),
                                                 "zoho_sandbox": connection_json(configs["sandbox"])},
                          inputs.fmt)
        say("preparing Airflow (SQLite metadata DB, warehouse pool)")
        redact = server_secrets(servers)
        init_airflow(env, logs, redact)
        conf: dict[str, Any] = {"source": str(inputs.source), "format": inputs.fmt}
        if inputs.overrides:
            conf["provider_email_overrides_file"] = str(inputs.overrides)
        conf.update(decided)  # --merges is recorded among them
        dags = [d for d in DAGS if not (args.skip_sample and d == "clinic_sample_migration")]
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=False) as progress:
            for dag_id in dags:
                if dag_id == "clinic_cutover" and not sample_signed_off(home, outcomes, args.confirm_by, say):
                    unsigned = True
                    break
                outcome = run_dag(dag_id, conf, env, logs, redact, progress)
                outcomes.append(outcome)
                if not outcome.ok:
                    break
    except MigrateError as exc:
        console.print(f"[red]{exc}[/red]")
        return 2
    finally:
        for server in servers.values():
            server.close()
    for line in summarise(outcomes, reports):
        say(line)
    failed = next((o for o in outcomes if not o.ok), None)
    if failed:
        console.print(f"[red]{failed.dag_id} failed at {', '.join(failed.failed_tasks()) or '?'}[/red]")
        reason = failure_reason(failed)
        if reason:
            say(reason)
        say(f"task logs: {_rel(failed.log)}")
    say(f"reports in {_rel(reports)}:")
    for name in ("data_quality.html", "sample_diff.html", "reconciliation.html", "workflow_rebuild.html"):
        if (reports / name).is_file():
            say(f"  {_rel(reports / name)}")
    for o in outcomes:
        load = reports / f"load_{journal_id(o.run_id)}.html"
        if load.is_file():
            say(f"  {_rel(load)}")
    cutover = next((o for o in outcomes if o.dag_id == "clinic_cutover"), None)
    if cutover and cutover.ok:
        from clinic2zoho.delta.demo import window_lines

        for line in window_lines(settings.warehouse_path(), _rel(home)):
            say(line)
    if cutover and (home / "journal" / journal_id(cutover.run_id)).is_dir():  # its load began
        say(f"undo the cutover with: {undo_command(journal_id(cutover.run_id), home)}")
    say(f"done in {time.monotonic() - started:.0f} s")
    return 1 if failed or unsigned else 0
