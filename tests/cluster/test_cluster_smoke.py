"""The cluster_smoke DAG under a real scheduler: CeleryExecutor, PostgreSQL, Redis, two workers.

Shows that parallel tasks spread over both workers, that each task ran where Airflow says it did
(its process descends from that worker's process), and that DuckDB's one-writer rule holds only
because of the `clinic_warehouse` pool: widen the pool and writers fail on the file lock.

Runs on the session's cluster (tests/cluster/conftest.py), shared with the cutover module: the
tasks write the cluster's CLINIC2ZOHO_HOME (the cutover's work folder when it is served too), and
every read here is of this run's rows only."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from clinic2zoho.cluster.pools import REQUIRED_POOLS, WAREHOUSE_POOL
from clinic2zoho.cluster.smoke import max_overlap
from tests.cluster.harness import AirflowCluster

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("cluster"), pytest.mark.cluster_dags("cluster_smoke.py")]

LOCK_ERROR = "Could not set lock on file"
SHARDS = 4
RUN_TIMEOUT = 240  # generous: the machine is shared; a healthy run takes ~40 s


def _stamps(home: Path, run_id: str) -> list[dict]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT task, map_index, worker, ti_hostname, ancestry FROM cluster_smoke.task_stamps WHERE run_id = ?",
            [run_id],
        ).fetchall()
    finally:
        con.close()
    return [dict(zip(("task", "map_index", "worker", "ti_hostname", "ancestry"), row)) for row in rows]


def _interval(ti: dict) -> tuple[float, float]:
    return datetime.fromisoformat(ti["start_date"]).timestamp(), datetime.fromisoformat(ti["end_date"]).timestamp()


def test_shards_run_in_parallel_on_both_workers_while_warehouse_writers_take_turns(airflow_cluster):
    """One test: the negative control widens the pool the first run relies on, so it runs right
    after it and restores the pool before any other run (the fixture also resets it per test)."""
    _assert_smoke_run_succeeds(airflow_cluster, airflow_cluster.work_home)
    _assert_widened_pool_lets_writers_collide(airflow_cluster)


def _assert_smoke_run_succeeds(cluster: AirflowCluster, home: Path) -> None:
    result = cluster.trigger_and_wait("cluster_smoke", conf={"shards": SHARDS}, timeout=RUN_TIMEOUT)
    result.assert_success()

    expected = {"plan", "check"} | {f"{t}[{i}]" for t in ("work_shard", "record_shard") for i in range(SHARDS)}
    assert set(result.task_states) == expected
    hosts = result.hostnames()
    assert set(hosts.values()) == set(cluster.worker_names), hosts

    # Each task ran on the worker it says: the stamp's worker is Airflow's recorded host, and the
    # task's process descends from the process of the worker the harness started under that name.
    # The stamps are read from the CLINIC2ZOHO_HOME passed through to the workers.
    worker_pids = cluster.worker_pids()
    stamps = _stamps(home, result.run_id)
    assert len(stamps) == 2 * SHARDS
    for stamp in stamps:
        key = f"{stamp['task']}[{stamp['map_index']}]"
        assert stamp["worker"] == hosts[key] == stamp["ti_hostname"], stamp
        assert worker_pids[stamp["worker"]] in stamp["ancestry"], (key, stamp["ancestry"], worker_pids)

    by_key = {f"{ti['task_id']}[{ti['map_index']}]": ti for ti in result.task_instances}
    writers = [by_key[f"record_shard[{i}]"] for i in range(SHARDS)]
    assert {ti["pool"] for ti in writers} == {WAREHOUSE_POOL}
    assert max_overlap([_interval(ti) for ti in writers]) == 1
    assert max_overlap([_interval(by_key[f"work_shard[{i}]"]) for i in range(SHARDS)]) >= 2
    assert all(ti["try_number"] == 1 for ti in result.task_instances)
    assert LOCK_ERROR not in cluster.task_logs_text("cluster_smoke", result.run_id)


def _assert_widened_pool_lets_writers_collide(cluster: AirflowCluster) -> None:
    """The negative control: with 4 slots the writers run together and DuckDB refuses all but one."""
    cluster.set_pool(WAREHOUSE_POOL, SHARDS, "widened for the negative control")
    try:
        result = cluster.trigger_and_wait(
            "cluster_smoke", conf={"shards": SHARDS, "writer_hold_seconds": 6.0}, timeout=RUN_TIMEOUT
        )
    finally:
        cluster.set_pool(WAREHOUSE_POOL, *REQUIRED_POOLS[WAREHOUSE_POOL])

    assert result.state == "failed"
    failed_writers = [k for k, s in result.task_states.items() if k.startswith("record_shard") and s == "failed"]
    assert failed_writers, result.task_states
    assert all(LOCK_ERROR in result.failed_task_logs[k] for k in failed_writers), result.failed_task_logs
    assert result.task_states["check"] == "upstream_failed"
