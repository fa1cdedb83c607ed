"""Task times of the DAG runs in an Airflow metadata DB (what `make demo` leaves in work/airflow).

    .venv/bin/python bench/dag_task_times.py                      # work/airflow/airflow.db
    .venv/bin/python bench/dag_task_times.py --db PATH --last 2   # the two latest runs

Prints, per DAG run: its wall time, and the Cosmos dbt tasks' count, median and mean duration,
and the other tasks' count and total time. Reads the DB only."""

from __future__ import annotations

import argparse
import sqlite3
import statistics
from datetime import datetime
from pathlib import Path


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("work/airflow/airflow.db"))
    parser.add_argument("--last", type=int, default=2, help="how many of the latest runs")
    parser.add_argument("--group", default="dbt_mapping.", help="task id prefix of the Cosmos tasks")
    args = parser.parse_args()
    con = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    runs = con.execute("SELECT dag_id, run_id, start_date, end_date, state FROM dag_run "
                       "ORDER BY start_date DESC LIMIT ?", (args.last,)).fetchall()
    for dag_id, run_id, start, end, state in reversed(runs):
        rows = con.execute("SELECT task_id, start_date, end_date FROM task_instance WHERE dag_id = ? AND run_id = ?",
                           (dag_id, run_id)).fetchall()
        dbt = [s for t, a, b in rows if t.startswith(args.group) and (s := _seconds(a, b)) is not None]
        other = [s for t, a, b in rows if not t.startswith(args.group) and (s := _seconds(a, b)) is not None]
        wall = _seconds(start, end)
        print(f"{dag_id} ({state}, run {run_id}): wall {wall:.0f} s" if wall is not None else f"{dag_id}: running")
        if dbt:
            print(f"  dbt tasks: {len(dbt)}, median {statistics.median(dbt):.2f} s, mean {statistics.mean(dbt):.2f} s,"
                  f" total {sum(dbt):.0f} s")
        print(f"  other tasks: {len(other)}, total {sum(other):.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
