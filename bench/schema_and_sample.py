"""Zoho calls and seconds of two DAG tasks: the sample DAG's select_sample (the load plan from dbt's
manifest, the selection, the org's layouts checked, the estimate) and prepare_schema (first run:
creates the mapping's modules and fields; rerun: nothing to change, as after a mapping fix).

    .venv/bin/python bench/schema_and_sample.py [--patients 500] [--repeat 3] [--calls] [--fresh]

Set up once per work folder (kept for the next run; --fresh redoes it): a generated export landed,
the mapping proposed against a local Zoho org and confirmed, the org's users landed, `dbt build`,
and the work folder's dbt manifest as `clinic2zoho migrate` writes it. Each repeat starts from a
copy of that org and warehouse and runs the tasks' functions in this process (no Airflow), in the
sample DAG's order: select_sample, then prepare_schema twice. Prints per phase the Zoho calls (by
endpoint with --calls) and the median seconds of the repeats. The machine may be loaded by other
work: compare the calls, and seconds measured on the same machine at the same time."""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clinic2zoho import settings  # noqa: E402
from clinic2zoho.generator import generate_export  # noqa: E402
from clinic2zoho.landing import land_export, land_users  # noqa: E402
from clinic2zoho.loader.journal import AuditLog  # noqa: E402
from clinic2zoho.mapping import confirmation, layout_mandatory  # noqa: E402
from clinic2zoho.mapping.propose_command import propose_mapping  # noqa: E402
from clinic2zoho.mapping.schema_command import prepare_schema  # noqa: E402
from clinic2zoho.orchestration.dbt_manifest import FOLDER, write_manifest  # noqa: E402
from clinic2zoho.orchestration.steps import plan_limits  # noqa: E402
from clinic2zoho.sample.task import select_for_run  # noqa: E402
from clinic2zoho.transform import run_dbt  # noqa: E402
from clinic2zoho.transform.dbt_runner import export_vars  # noqa: E402
from clinic2zoho.zoho import ZohoClient, ZohoConfig  # noqa: E402
from clinic2zoho.zoho_server.process import ZohoServerProcess  # noqa: E402

PHASES = ("select_sample", "prepare_schema, first run", "prepare_schema, rerun")


def local_config(server: ZohoServerProcess) -> ZohoConfig:
    url = server.base_url
    return ZohoConfig(server.client_id, server.client_secret, server.refresh_token, data_centre=None,
                      accounts_url=url, api_url=url, upload_url=url)


def set_up(setup: Path, patients: int, seed: int) -> None:
    """The export, the confirmed mapping (in a copy of the dbt project), the org it was proposed
    against (stopped: each repeat copies its state) and the built warehouse."""
    started = time.perf_counter()
    home = setup / "work"
    home.mkdir(parents=True)
    os.environ["CLINIC2ZOHO_HOME"] = str(home)
    generated = generate_export(setup / "gen", patients, seed=seed)
    merges = setup / "gen" / "patient_merges.csv"  # the clinic merged the planted duplicates
    merges.write_text("duplicate_patient_id,surviving_patient_id\n" + "".join(
        f"{d.duplicate_id},{d.original_id}\n" for d in generated.cases.duplicate_pairs), encoding="utf-8")
    dbt = setup / "dbt_project"
    for name in ("models", "seeds", "macros", "tests"):
        shutil.copytree(settings.DBT_PROJECT_DIR / name, dbt / name)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(settings.DBT_PROJECT_DIR / name, dbt / name)
    warehouse = home / "warehouse.duckdb"
    land_export(generated.export_dir, "generic", warehouse=warehouse)
    (setup / "org").mkdir()
    with ZohoServerProcess(state=setup / "org" / "state.sqlite", users=generated.zoho_users_path,
                           workdir=setup / "org") as server, ZohoClient(local_config(server)) as client:
        propose_mapping("generic", warehouse, dbt, client)
    layout_mandatory.supply(dbt, {"Leads.Company": "Individual (patient)"}, "bench")
    confirmation.confirm("bench", dbt)
    land_users(generated.zoho_users_path, "sandbox", warehouse=warehouse)
    dbt_vars = {**export_vars(generated.export_dir, "generic", warehouse),
                "provider_email_overrides_file": str(generated.overrides_path), "patient_merges_file": str(merges)}
    built = run_dbt(["build"], warehouse=warehouse, vars=dbt_vars, project_dir=dbt)
    if not built.success:
        raise SystemExit(f"dbt build failed:\n{built.summary()}")
    # what `clinic2zoho migrate` parses before Airflow starts (the project steps.dbt_manifest parses)
    write_manifest(settings.DBT_PROJECT_DIR, home)
    (setup / "users.json").write_bytes(Path(generated.zoho_users_path).read_bytes())
    print(f"set up {patients} patients in {setup} in {time.perf_counter() - started:.0f} s")


def fresh_copy(setup: Path, run: Path) -> None:
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    for path in (setup / "org").glob("state.sqlite*"):
        if path.suffix != ".log":
            shutil.copy(path, run / path.name)
    shutil.copy(setup / "work" / "warehouse.duckdb", run / "warehouse.duckdb")
    shutil.copytree(setup / "work" / FOLDER, run / FOLDER)


def one_repeat(setup: Path, run: Path) -> dict[str, tuple[float, Counter]]:
    """Each phase's seconds and calls (method, path) on a fresh copy of the org and warehouse."""
    fresh_copy(setup, run)
    os.environ["CLINIC2ZOHO_HOME"] = str(run)
    os.environ.pop("CLINIC2ZOHO_WAREHOUSE", None)
    dbt = setup / "dbt_project"
    out: dict[str, tuple[float, Counter]] = {}
    with ZohoServerProcess(state=run / "state.sqlite", users=setup / "users.json", workdir=run) as server:
        config = local_config(server)
        calls: Counter = Counter()

        def count(event) -> None:
            calls[(event.method, event.path)] += 1

        started = time.perf_counter()
        with ZohoClient(config, on_call=count) as client:  # the task's client (ZohoHook): not audited
            chosen = select_for_run("bench-sample", client, plan_limits(config), seed=3, minimum=100, maximum=300)
        out[PHASES[0]] = (time.perf_counter() - started, calls)
        assert chosen["sample"]["patients"] > 0
        for phase, run_id in zip(PHASES[1:], ("bench-schema-1", "bench-schema-2")):
            calls = Counter()
            audit = AuditLog(settings.journal_root(), run_id)  # the operator audits every call

            def audited(event, audit=audit) -> None:
                count(event)
                audit(event)

            started = time.perf_counter()
            with ZohoClient(config, on_call=audited) as client:
                prepare_schema(client, dbt, None, False, run_id, run / "warehouse.duckdb", log=lambda _: None)
            out[phase] = (time.perf_counter() - started, calls)
            audit.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=500, help="patients in the generated export (the demo's)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="runs of every phase; the median is printed")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "schema_and_sample")
    parser.add_argument("--fresh", action="store_true", help="set up again even if the work folder holds a setup")
    parser.add_argument("--calls", action="store_true", help="list each phase's calls by endpoint")
    args = parser.parse_args()
    setup = args.work.resolve() / f"setup-{args.patients}-{args.seed}"
    if args.fresh or not (setup / "users.json").is_file():
        shutil.rmtree(setup, ignore_errors=True)
        set_up(setup, args.patients, args.seed)
    runs = [one_repeat(setup, args.work.resolve() / "run") for _ in range(args.repeat)]
    print(f"{'phase':<28}{'Zoho calls':>11}{'seconds':>9}   (median of {args.repeat}; each run's seconds)")
    for phase in PHASES:
        seconds = [r[phase][0] for r in runs]
        calls = runs[-1][phase][1]
        print(f"{phase:<28}{sum(calls.values()):>11}{statistics.median(seconds):>9.2f}   "
              + " ".join(f"{s:.2f}" for s in seconds))
        if args.calls:
            for (method, path), n in sorted(calls.items(), key=lambda kv: (-kv[1], kv[0])):
                print(f"    {n:>5}  {method} {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
