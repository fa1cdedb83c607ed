"""cluster_smoke parses, and only the tasks touching the warehouse are in the one-slot pool."""

from __future__ import annotations

from airflow.dag_processing.dagbag import DagBag

from clinic2zoho.cluster.pools import REQUIRED_POOLS, WAREHOUSE_POOL
from tests.cluster.harness import ROOT


def test_cluster_smoke_wires_shards_in_parallel_and_warehouse_writers_through_the_pool():
    bag = DagBag(dag_folder=str(ROOT / "dags" / "cluster_smoke.py"))
    assert bag.import_errors == {}
    dag = bag.dags["cluster_smoke"]
    pools = {task.task_id: task.pool for task in dag.tasks}
    assert pools["record_shard"] == pools["check"] == WAREHOUSE_POOL
    assert pools["work_shard"] != WAREHOUSE_POOL and pools["plan"] != WAREHOUSE_POOL
    assert REQUIRED_POOLS[WAREHOUSE_POOL][0] == 1
    assert dag.get_task("record_shard").upstream_task_ids == {"plan", "work_shard"}
    assert dag.get_task("check").upstream_task_ids == {"record_shard"}
