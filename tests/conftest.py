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
# Each process gets its own Airflow home (its SQLite metadata DB): pytest-xdist workers inherit
# the controller's environment, and two workers creating one SQLite DB at once collide. A value
# the user set stays; a value an earlier conftest (the controller's) set is replaced.
_inherited = os.environ.get("CLINIC2ZOHO_TESTS_SESSION_HOME")
for _key, _value in {
    "AIRFLOW_HOME": str(_session_home / "airflow"),
    "AIRFLOW__COSMOS__CACHE_DIR": str(_session_home / "cosmos-cache"),
    "CLINIC2ZOHO_HOME": str(_session_home / "work"),
}.items():
    _current = os.environ.get(_key)
    if _current is None or (_inherited and _current.startswith(_inherited)):
        os.environ[_key] = _value
os.environ["CLINIC2ZOHO_TESTS_SESSION_HOME"] = str(_session_home)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(ROOT / "plugins"))
os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("SCARF_NO_ANALYTICS", "true")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")

# Fixture modules, one per area; each is owned by the code it serves.
pytest_plugins = [
    "tests.fixtures.paths",
    "tests.fixtures.zoho",
    "tests.fixtures.warehouses",
]

# The longest xdist groups (measured: the Celery cluster and its two modules, the demo, the two
# end-to-end DAG modules) start first, then the other end-to-end tests, then the rest, which fill in
# around them: in collection order the demo came last and ran alone for minutes while the other
# workers idled. `make test` passes --no-loadscope-reorder: by default pytest-xdist orders the groups
# by their number of tests, which put the demo's one test after every larger group (it started
# eight minutes in).
LONGEST_GROUPS = ("cluster", "demo", "dag_clinic_cutover", "dag_clinic_sample")


def _start_rank(item) -> int:
    marker = item.get_closest_marker("xdist_group")
    group = (marker.args[0] if marker.args else marker.kwargs.get("name")) if marker else None
    if group in LONGEST_GROUPS:
        return LONGEST_GROUPS.index(group)
    return len(LONGEST_GROUPS) + (0 if item.get_closest_marker("slow") else 1)


def pytest_collection_modifyitems(config, items):
    # stable: within a rank, collection order (every xdist worker must see the same order)
    items.sort(key=_start_rank)
