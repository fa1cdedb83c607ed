"""The clinic_cutover DAG under a real scheduler: CeleryExecutor, PostgreSQL metadata DB, Redis
broker, two Celery workers of two slots, a triggerer for the deferrable loads, and a local Zoho
server as the production org.

Shows what `dag.test()` cannot: the run's tasks spread over both workers, every task that opens
the DuckDB warehouse took its turn through the one-slot `clinic_warehouse` pool (none overlapped,
no lock error in any log), the load tasks (which write their own journal files, not the
warehouse) and the tasks watching each dbt model's result ran beside each other, and the result in
Zoho is the same as on one machine."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from clinic2zoho.cluster.pools import WAREHOUSE_POOL
from clinic2zoho.cluster.smoke import max_overlap
from clinic2zoho.zoho import ZohoClient
from clinic2zoho.zoho.connection import connection_json
from clinic2zoho.zoho_server.process import ZohoServerProcess
from tests.cluster.harness import ROOT
from tests.dags.scenario import generate, local_config, propose_and_confirm, share_manifest, sign_off_sample

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.xdist_group("cluster")]

PATIENTS = 120
RUN_TIMEOUT = 1500  # generous: ~80 tasks, each a fresh task process on a shared 2-core box
LOCK_ERROR = "Could not set lock on file"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    base = tmp_path_factory.mktemp("cluster-cutover")
    export = generate(base, PATIENTS, seed=11)
    (base / "zoho").mkdir()
    server = ZohoServerProcess(state=base / "zoho" / "state.sqlite", users=export.users,
                               workdir=base / "zoho").start()
    try:
        propose_and_confirm(export, base / "propose.duckdb", local_config(server))
        sign_off_sample(base / "work", export.dbt)
        share_manifest(export.dbt, base, base / "work")  # the workers' DAG files render from it
        yield base, export, server
    finally:
        server.close()


@pytest.fixture(scope="module")
def cluster_dags() -> list[Path]:
    return [ROOT / "dags" / "clinic_cutover.py"]


@pytest.fixture(scope="module")
def cluster_env(scenario) -> dict[str, str]:
    base, export, server = scenario
    return {
        "AIRFLOW_CONN_ZOHO_DEFAULT": connection_json(local_config(server)),
        "CLINIC2ZOHO_HOME": str(base / "work"),
        "CLINIC2ZOHO_DBT_PROJECT": str(export.dbt),
        "CLINIC2ZOHO_SOURCE_FORMAT": "generic",
        # parsing renders the dbt project from the work folder's manifest; these bound a busy box
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
        "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "300",
    }


def _interval(ti: dict) -> tuple[float, float]:
    return datetime.fromisoformat(ti["start_date"]).timestamp(), datetime.fromisoformat(ti["end_date"]).timestamp()


def test_the_cutover_runs_on_two_celery_workers_with_warehouse_writers_taking_turns(airflow_cluster, scenario):
    base, export, server = scenario
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
