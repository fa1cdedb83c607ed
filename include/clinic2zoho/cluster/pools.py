"""Airflow pools the DAGs rely on. DuckDB allows one writing process per database file, so every
task that writes the warehouse runs in `clinic_warehouse`, a pool of one slot; tasks that write
separate files need no pool and run in parallel. A deployment creates these pools once
(`airflow pools set clinic_warehouse 1 "..."`); the cluster test harness creates them itself."""

from __future__ import annotations

WAREHOUSE_POOL = "clinic_warehouse"  # the name dags/clinic_cutover.py and tests/dags use too

# pool name -> (slots, description)
REQUIRED_POOLS: dict[str, tuple[int, str]] = {
    WAREHOUSE_POOL: (1, "one writer at a time on the DuckDB warehouse file"),
}
