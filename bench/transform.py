"""Benchmark the mapping: `dbt build` on N landed generated patients, against the same compiled
SQL run directly in DuckDB.

    .venv/bin/python bench/transform.py --patients 2000          # quick
    .venv/bin/python bench/transform.py --patients 1000000       # the issue's figure

Prints the dbt build time and its peak memory (max RSS of the dbt process), then the time of
the compiled model SELECTs (and the gate's test queries) run one by one on a plain DuckDB
connection over a copy of the same landed warehouse, and the ratio. Targets on 2 cores: dbt
within 1.5x of the direct SQL, under 5 minutes in all, under 4 GB."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

from clinic2zoho.generator import generate_export
from clinic2zoho.landing import land_export, land_users
from clinic2zoho.settings import DBT_PROJECT_DIR
from clinic2zoho.transform import run_dbt
from clinic2zoho.transform.dbt_runner import export_vars
from clinic2zoho.transform.duckdb_functions import register_functions


def _mib(kib: int) -> float:
    return kib / 1024


def prepare(work: Path, patients: int, seed: int) -> tuple[Path, dict]:
    export = generate_export(work / "generated", patients, seed=seed, with_files=False)
    landed = work / "landed.duckdb"
    started = time.perf_counter()
    land_export(export.export_dir, "generic", warehouse=landed)
    land_users(export.zoho_users_path, "production", warehouse=landed)
    print(f"landed {patients:,} patients in {time.perf_counter() - started:.1f}s")
    dbt_vars = {**export_vars(export.export_dir, "generic"), "provider_email_overrides_file": str(export.overrides_path)}
    return landed, dbt_vars


def direct_sql(landed: Path, target: Path, work: Path) -> tuple[float, float, int]:
    """Run the compiled SQL of every model (in dependency order) and every test query directly."""
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    nodes = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] in {"model", "seed", "test"}}
    direct = work / "direct.duckdb"
    shutil.copy(landed, direct)
    con = duckdb.connect(str(direct))
    # the same bound as the dbt profile (dbt_project/profiles.yml)
    con.execute(f"SET memory_limit = '{os.environ.get('CLINIC2ZOHO_DUCKDB_MEMORY_LIMIT', '3GB')}'")
    register_functions(con)
    order = TopologicalSorter(
        {uid: [dep for dep in node.get("depends_on", {}).get("nodes", []) if dep in nodes] for uid, node in nodes.items()}
    ).static_order()
    models_s = tests_s = 0.0
    count = 0
    for uid in order:
        node = nodes[uid]
        relation = f'"{node["schema"]}"."{node.get("alias") or node["name"]}"'
        con.execute(f'create schema if not exists "{node["schema"]}"')
        started = time.perf_counter()
        if node["resource_type"] == "seed":
            path = DBT_PROJECT_DIR / node["original_file_path"]
            con.execute(f"create or replace table {relation} as select * from read_csv('{path}', header = true)")
        elif node["resource_type"] == "model":
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            con.execute(f"create or replace {kind} {relation} as {local(node['compiled_code'], node)}")
            models_s += time.perf_counter() - started
        else:
            con.execute(f"select count(*) from ({local(node['compiled_code'], node)})").fetchall()
            tests_s += time.perf_counter() - started
        count += 1
    con.close()
    return models_s, tests_s, count



def local(sql: str, node: dict) -> str:
    """Compiled SQL names the dbt database (the warehouse file's stem): drop it for this file."""
    return sql.replace(f'"{node["database"]}".', "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("bench/out/transform"))
    args = parser.parse_args()
    args.work = args.work.resolve()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)

    landed, dbt_vars = prepare(args.work, args.patients, args.seed)
    warehouse = args.work / "warehouse.duckdb"
    shutil.copy(landed, warehouse)
    result = run_dbt(["build"], warehouse=warehouse, vars=dbt_vars)
    dbt_peak = _mib(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(result.summary().splitlines()[0])
    if not result.success:
        print(result.summary())
        return 1
    timings = json.loads((result.target_path / "run_results.json").read_text(encoding="utf-8"))["results"]
    dbt_models = sum(r["execution_time"] for r in timings if r["unique_id"].startswith("model."))
    dbt_tests = sum(r["execution_time"] for r in timings if r["unique_id"].startswith("test."))

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    models_s, tests_s, count = direct_sql(landed, result.target_path, args.work)
    direct_peak = _mib(max(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    direct_total = models_s + tests_s

    print(f"patients                 {args.patients:,}")
    print(f"dbt build (wall)         {result.elapsed_s:8.1f} s   peak RSS {dbt_peak:,.0f} MiB")
    print(f"  dbt models / tests     {dbt_models:8.1f} s / {dbt_tests:.1f} s (node execution time)")
    print(f"direct SQL ({count} nodes)  {direct_total:8.1f} s   peak RSS {direct_peak:,.0f} MiB")
    print(f"  direct models / tests  {models_s:8.1f} s / {tests_s:.1f} s")
    print(f"dbt / direct             {result.elapsed_s / direct_total:8.2f} x   (target <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
