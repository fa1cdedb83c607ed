"""cluster_smoke: proves a cluster runs this project's DAGs safely — shard tasks writing their own
files run in parallel across Celery workers, while tasks writing the DuckDB warehouse go one at a
time through the `clinic_warehouse` pool; a final check fails the run if either rule was broken
or if only one worker took tasks. Run by tests/cluster (see docs/cluster.md)."""

from __future__ import annotations

from airflow.sdk import dag, task

from clinic2zoho import settings
from clinic2zoho.cluster import smoke
from clinic2zoho.cluster.pools import WAREHOUSE_POOL
from clinic2zoho_airflow.params import param


@dag(
    dag_id="cluster_smoke",
    description="Cluster check: shards in parallel across Celery workers, warehouse writers one at a time",
    doc_md=__doc__,
    schedule=None,
    catchup=False,
    tags=["clinic2zoho", "cluster"],
    params={
        "shards": param(4, type="integer", minimum=1, description="shard tasks run in parallel"),
        "hold_seconds": param(4.0, type="number", minimum=0, description="how long each shard task holds its slot"),
        "writer_hold_seconds": param(1.0, type="number", minimum=0,
                                     description="how long each warehouse writer holds the pool's one slot"),
        "min_workers": param(2, type="integer", minimum=1, description="fewest Celery workers that must take tasks"),
    },
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
