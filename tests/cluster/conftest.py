"""Fixtures for tests that need a real Airflow deployment (CeleryExecutor, PostgreSQL, Redis).

`airflow_cluster` (module-scoped) starts an `AirflowCluster` (tests/cluster/harness.py) once per
test module and stops it after the module. A module chooses what the cluster serves by
overriding two module-scoped fixtures:

    @pytest.fixture(scope="module")
    def cluster_dags():            # DAG files to serve; default: every file in dags/
        return [ROOT / "dags" / "clinic_cutover.py"]

    @pytest.fixture(scope="module")
    def cluster_env(tmp_path_factory):   # extra environment for every component
        return {"AIRFLOW_CONN_ZOHO_DEFAULT": json.dumps({...}), "CLINIC2ZOHO_HOME": "..."}

and drives runs with `airflow_cluster.trigger_and_wait(dag_id, conf, timeout)`. When PostgreSQL
or Redis do not answer on loopback the tests are skipped, naming which one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cluster.harness import ROOT, AirflowCluster, services_unavailable

_FAILED_MODULES = pytest.StashKey[set]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        item.config.stash.setdefault(_FAILED_MODULES, set()).add(item.module.__name__)


@pytest.fixture(scope="module")
def cluster_dags() -> list[Path] | None:
    """DAG files the cluster serves; None serves the repository's dags/ folder."""
    return None


@pytest.fixture(scope="module")
def cluster_env() -> dict[str, str]:
    """Extra environment for every cluster component (Connections, CLINIC2ZOHO_HOME, ...)."""
    return {}


@pytest.fixture(scope="module")
def airflow_cluster(request, tmp_path_factory, cluster_dags, cluster_env):
    reason = services_unavailable()
    if reason:
        pytest.skip(f"cluster test needs PostgreSQL and Redis on loopback: {reason}")
    cluster = AirflowCluster(tmp_path_factory.mktemp("cluster"), dags=cluster_dags, env=cluster_env)
    try:
        cluster.start()
    except BaseException:
        cluster.stop(dump_logs=True)
        raise
    yield cluster
    failed = request.module.__name__ in request.config.stash.get(_FAILED_MODULES, set())
    cluster.stop(dump_logs=failed)
    print(f"\ncluster {cluster.database}: {cluster.timings} {cluster.memory_report()}")
