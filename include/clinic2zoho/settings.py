"""Where a run keeps its files. Everything comes from the environment so Airflow workers,
the CLI and tests agree without passing paths around."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


def home() -> Path:
    """The work folder of this run (warehouse, reports, generated export, server state)."""
    path = Path(os.environ.get("CLINIC2ZOHO_HOME", "work")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def warehouse_path() -> Path:
    """The DuckDB file holding raw, staging, zoho and ops schemas."""
    override = os.environ.get("CLINIC2ZOHO_WAREHOUSE")
    return Path(override).resolve() if override else home() / "warehouse.duckdb"


def reports_dir() -> Path:
    override = os.environ.get("CLINIC2ZOHO_REPORTS")
    path = Path(override).resolve() if override else home() / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path
