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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinic2zoho import settings
from clinic2zoho.formats import FORMATS
from clinic2zoho.mapping.files import dbt_project_dir
from clinic2zoho.orchestration.dbt_manifest import ManifestError, manifest_folder, start_manifest
# Airflow in child processes (the environment, its setup, one DAG run): orchestration.local_airflow
from clinic2zoho.orchestration.local_airflow import (DagOutcome, MigrateError, airflow_env, failure_reason,
                                                     init_airflow, run_dag, server_secrets, undo_command,
                                                     zoho_config)
from clinic2zoho.orchestration.local_airflow import display_path as _rel

DEFAULT_PATIENTS = 500
DEFAULT_SEED = 7
# Demo inputs a clinic would add for the shared sample exports (see demo/README.md).
DEMO_INPUTS = {"synthea_csv_ma27": "synthea_ma27", "fhir_bulk_ndjson_10": "fhir_bulk_ndjson_10"}
DAGS = ("clinic_sample_migration", "clinic_cutover")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", type=Path, default=None,
                        help="export folder (default: a generated export of --patients patients)")
    parser.add_argument("--format", dest="fmt", default=None, choices=FORMATS,
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


# ------------------------------------------------------------------------------------ Zoho servers
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


# ------------------------------------------------------------------------------------ summary
def journal_id(run_id: str) -> str:
    from clinic2zoho.loader.journal import safe_run_id

    return safe_run_id(run_id)


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
        # the DAG files render from the work folder's dbt manifest (no `dbt ls` at parse): its parse
        # (the mapping as confirmed now) runs while the duplicates are decided and Airflow is prepared
        parse_started = time.monotonic()
        manifest = start_manifest(dbt_project_dir(), home)
        try:
            decided = ensure_duplicate_decisions(inputs, settings.warehouse_path(), home, args.confirm_by, say)
            env = airflow_env(home, args.log_level, {"zoho_default": connection_json(configs["production"]),
                                                     "zoho_sandbox": connection_json(configs["sandbox"])},
                              inputs.fmt)
            say("preparing Airflow (SQLite metadata DB, warehouse pool)")
            redact = server_secrets(servers)
            init_airflow(env, logs, redact)
            manifest.wait()
        except BaseException:
            manifest.stop()
            raise
        say(f"dbt manifest for the DAG files: {_rel(manifest_folder(home))} ({time.monotonic() - parse_started:.0f} s)")
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
    except (MigrateError, ManifestError) as exc:
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
