"""The clinic_cutover DAG under a real scheduler: CeleryExecutor, PostgreSQL metadata DB, Redis
broker, two Celery workers of two slots, a triggerer for the deferrable loads, and a local Zoho
server as the production org.

Shows what `dag.test()` cannot: the run's tasks spread over both workers, every task that opens
the DuckDB warehouse took its turn through the one-slot `clinic_warehouse` pool (none overlapped,
no lock error in any log), the load tasks (which write their own journal files, not the
warehouse) and the tasks watching each dbt model's result ran beside each other, and the result in
Zoho is the same as on one machine.

Runs on the session's cluster (tests/cluster/conftest.py), shared with the smoke module; the
scenario it starts from (`cutover_scenario`) is built there too, because it is the cluster's
environment. A smoke run before it leaves only its own schema (`cluster_smoke`) in the warehouse
and its own folder in the work folder, which nothing here reads."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import pytest

from clinic2zoho.cluster.pools import WAREHOUSE_POOL
from clinic2zoho.cluster.smoke import max_overlap
from clinic2zoho.zoho import ZohoClient
from tests.dags.scenario import local_config

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.xdist_group("cluster"),
              pytest.mark.cluster_dags("clinic_cutover.py")]

RUN_TIMEOUT = 1500  # generous: ~80 tasks, each a fresh task process on a shared 2-core box
LOCK_ERROR = "Could not set lock on file"


def _interval(ti: dict) -> tuple[float, float]:
    return datetime.fromisoformat(ti["start_date"]).timestamp(), datetime.fromisoformat(ti["end_date"]).timestamp()


def test_the_cutover_runs_on_two_celery_workers_with_warehouse_writers_taking_turns(airflow_cluster,
                                                                                      cutover_scenario):
    base, export, server = cutover_scenario
    result = airflow_cluster.trigger_and_wait("clinic_cutover", conf=export.run_conf(), timeout=RUN_TIMEOUT)
    result.assert_success()
    print(f"\nclinic_cutover on the cluster: {len(result.task_instances)} tasks in {result.seconds:.0f} s")

    tis = {ti["task_id"]: ti for ti in result.task_instances}
    assert {"land", "dbt_mapping.dbt_project_test", "load_contacts", "validate", "reports"} <= set(tis)
    # every task ran on a worker, except Cosmos's empty marker after the dbt build, which Airflow's
    # scheduler marks done without sending it to one
    hosts = result.hostnames()
    assert {key for key, host in hosts.items() if not host} <= {"dbt_mapping.dbt_producer_watcher_done"}, hosts
    assert {host for host in hosts.values() if host} == set(airflow_cluster.worker_names)

    in_pool = [ti for ti in result.task_instances if ti["pool"] == WAREHOUSE_POOL]
    writers = {"land", "quality_report", "prepare_schema", "dbt_mapping.dbt_producer_watcher", "estimate",
               "validate"}
    assert writers <= {ti["task_id"] for ti in in_pool}
    assert max_overlap([_interval(ti) for ti in in_pool]) == 1
    # the tasks watching each model's result read the build's XCom, not the warehouse: outside the
    # pool, they run side by side once the build is done instead of one slot at a time
    watchers = [ti for tid, ti in tis.items() if tid.startswith("dbt_mapping.") and tid.endswith("_run")]
    assert len(watchers) > 40 and all(ti["pool"] != WAREHOUSE_POOL for ti in watchers)
    assert max_overlap([_interval(ti) for ti in watchers]) >= 2
    loads = [ti for tid, ti in tis.items() if tid.startswith("load_") and tid != "load_report"]
    assert all(ti["pool"] != WAREHOUSE_POOL for ti in loads)
    assert max_overlap([_interval(ti) for ti in loads]) >= 2  # independent modules load side by side
    assert LOCK_ERROR not in airflow_cluster.task_logs_text("clinic_cutover", result.run_id)

    home = base / "work"
    summary = json.loads((home / "reports" / "reconciliation.json").read_text())["summary"]
    assert summary["status"] == "passed"
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        staged = con.execute("SELECT count(*) FROM zoho.zoho_contacts").fetchone()[0]
        rejected = con.execute("SELECT count(*) FROM ops.load_rejects WHERE module = 'Contacts'").fetchone()[0]
    with ZohoClient(local_config(server)) as client:
        in_zoho = len(list(client.iter_records("Contacts", ["Clinic_Patient_Id"])))
    assert staged > 0 and in_zoho + rejected == staged
