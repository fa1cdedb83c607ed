"""A watching dbt task's fallback waits while another process writes the warehouse, then goes."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pytest

from clinic2zoho.cluster.warehouse_turn import LOCK_ERROR, wait_for_warehouse

HOLD = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])
print("held", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def _holder(path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_it_waits_for_the_writer_to_finish_then_returns(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(path)).close()
    holder = _holder(path, 1.5)
    try:
        started = time.monotonic()
        wait_for_warehouse(path, wait_seconds=0.2, give_up_after=30)
        waited = time.monotonic() - started
    finally:
        holder.wait(timeout=30)
    assert holder.returncode == 0
    assert waited > 0.5  # it did not go while the other process held the file
    duckdb.connect(str(path)).close()  # and the file is free for the fallback's dbt run


def test_it_gives_up_with_duckdbs_lock_error_when_the_writer_stays(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(path)).close()
    holder = _holder(path, 20)
    try:
        with pytest.raises(duckdb.IOException, match=LOCK_ERROR):
            wait_for_warehouse(path, wait_seconds=0.1, give_up_after=0.5)
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_a_warehouse_not_yet_created_is_free(tmp_path):
    wait_for_warehouse(tmp_path / "none.duckdb", wait_seconds=0.1, give_up_after=0.5)
    assert not (tmp_path / "none.duckdb").exists()  # nothing was created
