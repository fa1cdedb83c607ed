"""Benchmark what a dbt command costs before its first node: started as a new `dbt` interpreter
against forked from the fork server (transform.dbt_process), and a copy of a warehouse parsing the
whole project against starting from the shared parse (transform.dbt_parse_cache).

    .venv/bin/python bench/dbt_start.py                 # 300 patients, 5 commands each way

Prints the CPU time (this machine's, all processes) and the wall time per command of `dbt run`
of one model with a saved parse, each way; then the same command on fresh copies of the
warehouse, without and with the shared parse."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from clinic2zoho.generator import generate_export
from clinic2zoho.landing import land_export, land_users
from clinic2zoho.transform import dbt_process, run_dbt
from clinic2zoho.transform.dbt_parse_cache import PARSE_FILE
from clinic2zoho.transform.dbt_runner import export_vars, target_dir

COMMAND = ["run", "--select", "int_patient_merges"]


def busy_cpu_s() -> float:
    """CPU time every process of the machine spent so far (the fork server's children included)."""
    with open("/proc/stat", encoding="ascii") as fh:
        ticks = [int(value) for value in fh.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def per_command(label: str, runs: int, command: Callable[[int], None]) -> None:
    cpu, wall = busy_cpu_s(), time.perf_counter()
    for index in range(runs):
        command(index)
    print(f"{label:<44} {(busy_cpu_s() - cpu) / runs:5.2f} s CPU  {(time.perf_counter() - wall) / runs:5.2f} s wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-dbt-start-"))
    try:
        export = generate_export(work / "generated", args.patients, seed=3, with_files=False)
        warehouse = work / "built" / "warehouse.duckdb"
        land_export(export.export_dir, "generic", warehouse=warehouse)
        land_users(export.zoho_users_path, "production", warehouse=warehouse)
        dbt_vars = {**export_vars(export.export_dir, "generic"), "provider_email_overrides_file": str(export.overrides_path)}
        assert run_dbt(["build"], warehouse=warehouse, vars=dbt_vars).success

        def forked(_: int) -> None:
            assert run_dbt(COMMAND, warehouse=warehouse, vars=dbt_vars).success

        def executable(_: int) -> None:
            with dbt_process._lock:  # as when the server is busy: the `dbt` executable runs
                forked(0)

        def copy(index: int, keep_shared: bool) -> None:
            dest = work / f"copy-{keep_shared}-{index}" / warehouse.name
            dest.parent.mkdir()
            shutil.copy(warehouse, dest)
            # a var no model reads, new for each copy: no shared parse matches, dbt parses it all
            given = dbt_vars if keep_shared else {**dbt_vars, "bench_copy": f"{os.getpid()}-{index}"}
            assert run_dbt(COMMAND, warehouse=dest, vars=given).success
            assert (target_dir(dest) / PARSE_FILE).is_file()

        print(f"{args.patients} patients; `dbt {' '.join(COMMAND)}`, {args.runs} commands each way")
        per_command("new dbt interpreter, saved parse", args.runs, executable)
        per_command("forked from the fork server, saved parse", args.runs, forked)
        per_command("forked, new copy, whole project parsed", args.runs, lambda i: copy(i, False))
        per_command("forked, new copy, from the shared parse", args.runs, lambda i: copy(i, True))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
