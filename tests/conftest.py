"""Test-session setup shared by every test.

Airflow reads its configuration when first imported, so the environment is set here, before any
test module imports it: a private AIRFLOW_HOME with SQLite, no examples, no telemetry."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

_session_home = Path(tempfile.mkdtemp(prefix="clinic2zoho-tests-"))
os.environ.setdefault("AIRFLOW_HOME", str(_session_home / "airflow"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(ROOT / "plugins"))
os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
os.environ.setdefault("AIRFLOW__COSMOS__CACHE_DIR", str(_session_home / "cosmos-cache"))
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("SCARF_NO_ANALYTICS", "true")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
os.environ.setdefault("CLINIC2ZOHO_HOME", str(_session_home / "work"))

# Fixture modules, one per area; each is owned by the code it serves.
pytest_plugins = [
    "tests.fixtures.paths",
    "tests.fixtures.zoho",
]
