"""The plain-Python side of the cluster smoke DAG (clinic2zoho.cluster), without Airflow: stamps,
the checks that prove parallelism and turn-taking writers, and DuckDB's one-writer rule itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from clinic2zoho.cluster import smoke
from clinic2zoho.cluster.worker_identity import WORKER_NAME_ENV, hostname, process_ancestry

RUN = "manual__2026-11-24T10:00:00+00:00"


def _python(code: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _work_shards_in_parallel(folder: Path, workers: list[str], hold: float) -> None:
    """Shards worked by separate processes at once, each under its worker's name, like Celery workers."""
    procs = [
        _python(
            f"""
            from pathlib import Path
            from clinic2zoho.cluster import smoke
            smoke.work_shard(Path({str(folder)!r}), {RUN!r}, {shard}, {worker!r}, {hold})
            """,
            env={WORKER_NAME_ENV: worker},
        )
        for shard, worker in enumerate(workers)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err


def test_hostname_is_the_worker_name_when_one_is_set(monkeypatch):
    monkeypatch.setenv(WORKER_NAME_ENV, "worker-z")
    assert hostname() == "worker-z"
    monkeypatch.delenv(WORKER_NAME_ENV)
    assert hostname()  # the machine's name, Airflow's default


def test_process_ancestry_of_a_child_runs_through_this_process():
    proc = _python("from clinic2zoho.cluster.worker_identity import process_ancestry; print(process_ancestry())")
    out, err = proc.communicate(timeout=30)
    chain = json.loads(out)
    assert chain[0] == proc.pid and os.getpid() in chain, err
    assert process_ancestry()[0] == os.getpid()


@pytest.mark.parametrize(
    ("intervals", "expected"),
    [([], 0), ([(0, 1), (1, 2), (2, 3)], 1), ([(0, 3), (1, 2), (1.5, 4)], 3), ([(0, 2), (1, 3), (2.5, 4)], 2)],
)
def test_max_overlap_counts_intervals_open_at_once(intervals, expected):
    assert smoke.max_overlap(intervals) == expected


def test_parallel_shards_on_two_workers_and_turn_taking_writers_pass_the_check(work_home, monkeypatch):
    folder = smoke.run_folder(work_home, RUN)
    workers = ["worker-a", "worker-b", "worker-a", "worker-b"]
    _work_shards_in_parallel(folder, workers, hold=1.5)
    warehouse = work_home / "warehouse.duckdb"
    for shard, worker in enumerate(workers):  # one writer at a time, as the pool runs them
        monkeypatch.setenv(WORKER_NAME_ENV, worker)
        smoke.record_shard(warehouse, folder, RUN, shard, worker, hold_seconds=0)
    monkeypatch.setenv(WORKER_NAME_ENV, "worker-b")

    summary = smoke.check_run(warehouse, folder, RUN, shards=4, ti_hostname="worker-b")

    assert summary["workers"] == {"worker-a": 4, "worker-b": 5}
    assert summary["shard_overlap"] >= 2 and summary["writer_overlap"] == 1
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT shard) FROM cluster_smoke.shard_rows").fetchone() == (
        4 * smoke.ROWS_PER_SHARD, 4)
    con.close()


def test_rerunning_a_writer_replaces_its_rows_instead_of_doubling_them(work_home, monkeypatch):
    monkeypatch.setenv(WORKER_NAME_ENV, "worker-a")
    folder = smoke.run_folder(work_home, RUN)
    smoke.work_shard(folder, RUN, 0, "worker-a", hold_seconds=0)
    warehouse = work_home / "warehouse.duckdb"
    for _ in range(2):
        smoke.record_shard(warehouse, folder, RUN, 0, "worker-a", hold_seconds=0)
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("SELECT count(*) FROM cluster_smoke.shard_rows").fetchone()[0] == smoke.ROWS_PER_SHARD
    assert con.execute("SELECT count(*) FROM cluster_smoke.task_stamps").fetchone()[0] == 2
    con.close()


def test_the_check_names_every_broken_rule(work_home, monkeypatch):
    monkeypatch.setenv(WORKER_NAME_ENV, "worker-a")
    folder = smoke.run_folder(work_home, RUN)
    warehouse = work_home / "warehouse.duckdb"
    for shard in range(2):  # one worker, one after another: no parallelism; shard 2 never ran
        smoke.work_shard(folder, RUN, shard, "worker-a", hold_seconds=0)
        smoke.record_shard(warehouse, folder, RUN, shard, "worker-a", hold_seconds=0)
    con = duckdb.connect(str(warehouse))
    con.execute("UPDATE cluster_smoke.task_stamps SET started_at = 0, finished_at = 1e12 WHERE task = 'record_shard'")
    con.execute("UPDATE cluster_smoke.task_stamps SET ti_hostname = 'elsewhere' WHERE task = 'work_shard' AND map_index = 1")
    con.close()

    with pytest.raises(smoke.ClusterSmokeError) as caught:
        smoke.check_run(warehouse, folder, RUN, shards=3, ti_hostname="worker-a")

    message = str(caught.value)
    assert "work_shard: no stamp for shards [2]" in message
    assert "shard 2: 0 rows in the warehouse" in message
    assert "work_shard[1]: ran on worker 'worker-a' but Airflow recorded host 'elsewhere'" in message
    assert "tasks ran on 1 worker(s) ['worker-a'], expected at least 2" in message
    assert "2 warehouse writers overlapped" in message
    assert "shard tasks never overlapped" in message


def test_a_second_process_writing_the_warehouse_fails_on_duckdbs_file_lock(work_home, monkeypatch):
    """The rule the `clinic_warehouse` pool exists for: while one process holds the file, another
    process cannot open it to write."""
    monkeypatch.setenv(WORKER_NAME_ENV, "worker-a")
    folder = smoke.run_folder(work_home, RUN)
    smoke.work_shard(folder, RUN, 0, "worker-a", hold_seconds=0)
    warehouse = work_home / "warehouse.duckdb"
    holder = _python(
        f"""
        import duckdb, sys, time
        con = duckdb.connect({str(warehouse)!r})
        con.execute("CREATE TABLE IF NOT EXISTS held (x INTEGER)")
        print("holding", flush=True)
        sys.stdin.readline()
        """,
        stdin=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(duckdb.IOException, match="Could not set lock on file"):
            smoke.record_shard(warehouse, folder, RUN, 0, "worker-a", hold_seconds=0)
    finally:
        holder.communicate("\n", timeout=30)
    smoke.record_shard(warehouse, folder, RUN, 0, "worker-a", hold_seconds=0)  # free again once released
