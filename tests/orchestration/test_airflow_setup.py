"""`init_airflow`: `airflow db migrate` and the DAGs' pools in one child process (one Airflow
start-up), its output in logs/airflow_setup.log, and a failing command named in the error (~5 s
each: real Airflow children on a fresh SQLite DB)."""

from __future__ import annotations

import sqlite3

import pytest

pytest.importorskip("airflow")

from clinic2zoho.cluster import pools  # noqa: E402
from clinic2zoho.orchestration import local_airflow  # noqa: E402
from clinic2zoho.orchestration.local_airflow import MigrateError  # noqa: E402
from clinic2zoho.orchestration.redacted_output import Redactor  # noqa: E402


def _env(home):
    (home / "logs").mkdir(parents=True)
    return local_airflow.airflow_env(home, "INFO", {}, "generic")


@pytest.mark.slow
def test_the_db_is_migrated_and_the_pools_set_in_one_child(tmp_path):
    home = tmp_path / "work"
    env = _env(home)
    local_airflow.init_airflow(env, home / "logs", Redactor([]))
    local_airflow.init_airflow(env, home / "logs", Redactor([]))  # a work folder set up before: the same
    with sqlite3.connect(home / "airflow" / "airflow.db") as db:
        rows = dict(db.execute("select pool, slots from slot_pool").fetchall())
    assert rows == {"default_pool": 128, **{name: slots for name, (slots, _) in pools.REQUIRED_POOLS.items()}}
    log = (home / "logs" / "airflow_setup.log").read_text()
    assert log.count("Database migration done!") == 2 and log.count(f"Pool {pools.WAREHOUSE_POOL} created") == 2


@pytest.mark.slow
def test_a_failing_command_is_named(tmp_path, monkeypatch):
    home = tmp_path / "work"
    env = _env(home)
    monkeypatch.setattr(pools, "REQUIRED_POOLS", {"ok_pool": (2, "fine"), "bad_pool": ("many", "slots not a number")})
    with pytest.raises(MigrateError, match=r"`airflow pools set bad_pool` failed; see .*airflow_setup.log"):
        local_airflow.init_airflow(env, home / "logs", Redactor([]))
    assert "Pool ok_pool created" in (home / "logs" / "airflow_setup.log").read_text()
