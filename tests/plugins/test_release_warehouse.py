"""After each dbt task, `release_warehouse` closes the DuckDB file dbt-duckdb keeps open in the
task's process, so the next task of the same process may open the warehouse; in a process where
dbt-duckdb never ran it does nothing and imports nothing."""

from __future__ import annotations

import subprocess
import sys


def test_a_process_where_dbt_never_ran_imports_no_dbt():
    code = ("import sys; from clinic2zoho_airflow.operators.clinic_tasks import release_warehouse; "
            "before = 'dbt.adapters.duckdb.connections' in sys.modules; release_warehouse('p'); "
            "print(before, 'dbt.adapters.duckdb.connections' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()[-1].split()
    assert out == ["False", "False"]


def _another_process_can_read(path) -> bool:
    code = f"import duckdb; duckdb.connect({str(path)!r}, read_only=True).close()"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_the_file_dbt_duckdb_holds_is_released(tmp_path):
    from dbt.adapters.duckdb import environments
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.adapters.duckdb.credentials import DuckDBCredentials

    from clinic2zoho_airflow.operators.clinic_tasks import release_warehouse

    path = tmp_path / "warehouse.duckdb"
    env = environments.create(DuckDBCredentials(path=str(path), database="warehouse", schema="main"))
    DuckDBConnectionManager._ENV = env  # as dbt-duckdb leaves it after a build in this process
    try:
        env.handle().cursor().execute("CREATE TABLE t AS SELECT 1 AS x")
        assert not _another_process_can_read(path)  # dbt-duckdb holds the file's lock
        release_warehouse("project")
        assert DuckDBConnectionManager._ENV is None and _another_process_can_read(path)
    finally:
        if DuckDBConnectionManager._ENV is env:
            DuckDBConnectionManager._ENV = None
            env.close()
