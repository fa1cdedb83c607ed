"""Airflow's metadata DB for DAG tests (the environment itself is set in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def airflow_db() -> None:
    """Create the metadata DB once (parsing a Cosmos DAG already reads it), with the warehouse
    pool of one slot the cutover DAG's writers share."""
    from airflow.models.pool import Pool
    from airflow.utils.db import initdb

    initdb()
    Pool.create_or_update_pool("clinic_warehouse", slots=1, description="DuckDB warehouse", include_deferred=False)
