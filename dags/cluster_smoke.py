"""cluster_smoke: proves a cluster runs this project's DAGs safely — shard tasks writing their own
files run in parallel across Celery workers, while tasks writing the DuckDB warehouse go one at a
time through the `clinic_warehouse` pool; a final check fails the run if either rule was broken
or if only one worker took tasks. Run by tests/cluster (see docs/cluster.md)."""

from __future__ import annotations

from airflow.sdk import dag, task

from clinic2zoho import settings
from clinic2zoho.cluster import smoke
from clinic2zoho.cluster.pools import WAREHOUSE_POOL


@dag(
    dag_id="cluster_smoke",
    schedule=None,
    catchup=False,
    tags=["clinic2zoho", "cluster"],
    params={"shards": 4, "hold_seconds": 4.0, "writer_hold_seconds": 1.0, "min_workers": 2},
)
def cluster_smoke():
    @task
    def plan(params=None) -> list[int]:
        return list(range(int(params["shards"])))

    @task
    def work_shard(shard: int, params=None, run_id=None, ti=None) -> dict:
        folder = smoke.run_folder(settings.home(), run_id)
        return smoke.work_shard(folder, run_id, shard, ti.hostname, float(params["hold_seconds"]))

    @task(pool=WAREHOUSE_POOL)
    def record_shard(shard: int, params=None, run_id=None, ti=None) -> dict:
        folder = smoke.run_folder(settings.home(), run_id)
        return smoke.record_shard(
            settings.warehouse_path(), folder, run_id, shard, ti.hostname, float(params["writer_hold_seconds"])
        )

    @task(pool=WAREHOUSE_POOL)
    def check(params=None, run_id=None, ti=None) -> dict:
        folder = smoke.run_folder(settings.home(), run_id)
        return smoke.check_run(
            settings.warehouse_path(), folder, run_id, int(params["shards"]), ti.hostname, int(params["min_workers"])
        )

    shards = plan()
    work_shard.expand(shard=shards) >> record_shard.expand(shard=shards) >> check()


cluster_smoke()
