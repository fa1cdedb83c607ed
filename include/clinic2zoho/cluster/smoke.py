"""The work of the `cluster_smoke` DAG: parallel tasks writing their own files, tasks writing the
one DuckDB warehouse through a one-slot pool, and a check that proves both happened as intended
on more than one worker.

Each task records a stamp (which worker, its host name as Airflow saw it, its process ancestry,
start and end times); the check reads them back and fails with every broken rule listed."""

from __future__ import annotations

import csv
import json
import time
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from clinic2zoho.cluster.worker_identity import process_ancestry, worker_name
from clinic2zoho.loader.journal import safe_run_id
from clinic2zoho.transactions import transaction

ROWS_PER_SHARD = 1000
SCHEMA = "cluster_smoke"


class ClusterSmokeError(RuntimeError):
    """The cluster did not behave as required (listed in the message)."""


@dataclass
class TaskStamp:
    run_id: str
    task: str
    map_index: int
    worker: str | None
    ti_hostname: str
    pid: int
    ancestry: list[int] = field(default_factory=list)
    started_at: float = 0.0
    finished_at: float = 0.0

    @classmethod
    def begin(cls, run_id: str, task: str, map_index: int, ti_hostname: str) -> TaskStamp:
        ancestry = process_ancestry()
        return cls(run_id, task, map_index, worker_name(), ti_hostname, ancestry[0], ancestry, time.time())

    def finish(self) -> TaskStamp:
        self.finished_at = time.time()
        return self


def run_folder(home: Path, run_id: str) -> Path:
    """Where one run keeps its per-task files (run ids hold ':' and '+', unsafe in paths)."""
    folder = home / "cluster_smoke" / safe_run_id(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def work_shard(folder: Path, run_id: str, shard: int, ti_hostname: str, hold_seconds: float) -> dict:
    """Write this shard's own files; no shared file, so shards run side by side.

    `hold_seconds` keeps the task alive long enough for parallel shards to overlap visibly."""
    stamp = TaskStamp.begin(run_id, "work_shard", shard, ti_hostname)
    data = folder / f"shard_{shard}.csv"
    tmp = data.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["shard", "i", "value"])
        writer.writerows((shard, i, i * i + shard) for i in range(ROWS_PER_SHARD))
    tmp.replace(data)
    time.sleep(max(0.0, hold_seconds - (time.time() - stamp.started_at)))
    stamp.finish()
    _write_atomically(folder / f"shard_{shard}.json", json.dumps(asdict(stamp)))
    return asdict(stamp)


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.shard_rows "
        "(run_id VARCHAR, shard INTEGER, i INTEGER, value BIGINT)"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.task_stamps (run_id VARCHAR, task VARCHAR, map_index INTEGER, "
        "worker VARCHAR, ti_hostname VARCHAR, pid INTEGER, ancestry INTEGER[], started_at DOUBLE, "
        "finished_at DOUBLE)"
    )


def _insert_stamp(con: duckdb.DuckDBPyConnection, stamp: dict) -> None:
    con.execute(
        f"DELETE FROM {SCHEMA}.task_stamps WHERE run_id = ? AND task = ? AND map_index = ?",
        [stamp["run_id"], stamp["task"], stamp["map_index"]],
    )
    con.execute(
        f"INSERT INTO {SCHEMA}.task_stamps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [stamp[k] for k in ("run_id", "task", "map_index", "worker", "ti_hostname", "pid", "ancestry",
                             "started_at", "finished_at")],
    )


def record_shard(
    warehouse: Path, folder: Path, run_id: str, shard: int, ti_hostname: str, hold_seconds: float
) -> dict:
    """Copy one shard's rows and stamp into the warehouse, holding the file open for `hold_seconds`.

    Holding the connection makes the one-writer rule bite: a second process opening the file
    meanwhile fails with DuckDB's `Could not set lock on file`, unless the pool keeps it out."""
    stamp = TaskStamp.begin(run_id, "record_shard", shard, ti_hostname)
    data, shard_stamp = folder / f"shard_{shard}.csv", folder / f"shard_{shard}.json"
    for path in (data, shard_stamp):
        if not path.is_file():
            raise ClusterSmokeError(f"shard {shard}: {path.name} missing in {folder}")
    with closing(duckdb.connect(str(warehouse))) as con:
        _ensure_tables(con)
        with transaction(con):
            con.execute(f"DELETE FROM {SCHEMA}.shard_rows WHERE run_id = ? AND shard = ?", [run_id, shard])
            con.execute(
                f"INSERT INTO {SCHEMA}.shard_rows SELECT ?, shard, i, value "
                "FROM read_csv(?, header = true, columns = {'shard': 'INTEGER', 'i': 'INTEGER', 'value': 'BIGINT'})",
                [run_id, str(data)],
            )
            _insert_stamp(con, json.loads(shard_stamp.read_text()))
            time.sleep(max(0.0, hold_seconds - (time.time() - stamp.started_at)))
            stamp.finish()
            _insert_stamp(con, asdict(stamp))
    return asdict(stamp)


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The largest number of intervals open at one instant (touching ends do not overlap)."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    best = current = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best


def check_run(
    warehouse: Path, folder: Path, run_id: str, shards: int, ti_hostname: str, min_workers: int = 2
) -> dict:
    """Check what the run's tasks recorded; raise ClusterSmokeError listing every broken rule.

    Rules: every shard was worked and recorded; every task's worker is the host Airflow recorded
    for it; at least `min_workers` workers took tasks; warehouse writers never overlapped; shard
    tasks did overlap (they ran in parallel)."""
    me = TaskStamp.begin(run_id, "check", -1, ti_hostname)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            f"SELECT task, map_index, worker, ti_hostname, started_at, finished_at "
            f"FROM {SCHEMA}.task_stamps WHERE run_id = ? ORDER BY task, map_index",
            [run_id],
        ).fetchall()
        counts = dict(
            con.execute(
                f"SELECT shard, count(*) FROM {SCHEMA}.shard_rows WHERE run_id = ? GROUP BY shard", [run_id]
            ).fetchall()
        )
    finally:
        con.close()
    stamps = [dict(zip(("task", "map_index", "worker", "ti_hostname", "started_at", "finished_at"), r)) for r in rows]
    stamps.append(asdict(me.finish()))
    problems: list[str] = []
    for task in ("work_shard", "record_shard"):
        seen = {s["map_index"] for s in stamps if s["task"] == task}
        missing = sorted(set(range(shards)) - seen)
        if missing:
            problems.append(f"{task}: no stamp for shards {missing}")
    for shard in range(shards):
        if counts.get(shard) != ROWS_PER_SHARD:
            problems.append(f"shard {shard}: {counts.get(shard, 0)} rows in the warehouse, expected {ROWS_PER_SHARD}")
    for s in stamps:
        if not s["worker"] or s["worker"] != s["ti_hostname"]:
            problems.append(
                f"{s['task']}[{s['map_index']}]: ran on worker {s['worker']!r} but Airflow recorded host "
                f"{s['ti_hostname']!r}"
            )
    workers: dict[str, int] = {}
    for s in stamps:
        if s["worker"]:
            workers[s["worker"]] = workers.get(s["worker"], 0) + 1
    if len(workers) < min_workers:
        problems.append(f"tasks ran on {len(workers)} worker(s) {sorted(workers)}, expected at least {min_workers}")
    writers = [(s["started_at"], s["finished_at"]) for s in stamps if s["task"] == "record_shard"]
    writer_overlap = max_overlap(writers)
    if writer_overlap > 1:
        problems.append(f"{writer_overlap} warehouse writers overlapped; the pool must allow one")
    shard_overlap = max_overlap([(s["started_at"], s["finished_at"]) for s in stamps if s["task"] == "work_shard"])
    if shards > 1 and shard_overlap < 2:
        problems.append("shard tasks never overlapped: no parallelism")
    if problems:
        raise ClusterSmokeError("cluster smoke check failed:\n- " + "\n- ".join(problems))
    return {"shards": shards, "workers": workers, "shard_overlap": shard_overlap, "writer_overlap": writer_overlap}
