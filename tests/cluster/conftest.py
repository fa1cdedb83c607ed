"""Fixtures for tests that need a real Airflow deployment (CeleryExecutor, PostgreSQL, Redis).

`airflow_cluster` starts one `AirflowCluster` (tests/cluster/harness.py) per test session — per
xdist worker; the modules using it are all in the xdist group "cluster", so one worker — and stops
it after the last test that uses it (at the latest when the session ends, failed or not). One
cluster, not one per module: each start costs ~20 s and ~20 CPU-seconds (`db migrate`, six
processes importing Airflow) on our 2-core machines.

A module names the DAG files it drives with a marker; the cluster serves the union over the
collected tests that use it, so a module run alone parses (and prepares) only what it needs:

    pytestmark = [pytest.mark.cluster_dags("cluster_smoke.py"), ...]

Serving clinic_cutover.py brings in `cutover_scenario` (generated export, local Zoho server,
confirmed mapping, signed-off sample, shared dbt manifest): its work folder is the cluster's
CLINIC2ZOHO_HOME for every DAG, since the DAGs read it from the environment. The smoke DAG's
stamps then go to that warehouse in their own schema (`cluster_smoke`) and its run files to
`cluster_smoke/` beside it; tests run one at a time, so no two DAGs' runs overlap. Before each
test the pools are set back to those the cluster started with (the project's), whatever an earlier
test left (the smoke's negative control widens `clinic_warehouse`), so the order does not matter.

When PostgreSQL or Redis do not answer on loopback the tests are skipped, naming which one. When
any test using the cluster failed, the components' log tails are written at the session's end."""

from __future__ import annotations

import time

import pytest

from tests.cluster.harness import ROOT, AirflowCluster, services_unavailable

_FAILED_USERS = pytest.StashKey[set]()  # node ids of failed tests that used the cluster
CUTOVER_DAG = "clinic_cutover.py"
CUTOVER_PATIENTS = 120


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "cluster_dags(*files): DAG files in dags/ the session's Airflow cluster serves (each defines the "
        "DAG named after it)"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and "airflow_cluster" in item.fixturenames:
        item.config.stash.setdefault(_FAILED_USERS, set()).add(item.nodeid)


def served_dag_files(items) -> list[str]:
    """The DAG files the collected tests using `airflow_cluster` name in their `cluster_dags` marks."""
    files: set[str] = set()
    for item in items:
        if "airflow_cluster" not in item.fixturenames:
            continue
        marks = list(item.iter_markers("cluster_dags"))
        if not marks:
            pytest.fail(f"{item.nodeid} uses airflow_cluster without pytest.mark.cluster_dags(...)", pytrace=False)
        files.update(name for mark in marks for name in mark.args)
    return sorted(files)


@pytest.fixture(scope="session")
def cutover_scenario(tmp_path_factory):
    """(base, export, server): what the clinic_cutover DAG starts from; `base / "work"` is its
    CLINIC2ZOHO_HOME. Session-scoped because the cluster's environment is fixed at its start."""
    from clinic2zoho.zoho_server.process import ZohoServerProcess
    from tests.dags.scenario import generate, local_config, propose_and_confirm, share_manifest, sign_off_sample

    base = tmp_path_factory.mktemp("cluster-cutover")
    export = generate(base, CUTOVER_PATIENTS, seed=11)
    (base / "zoho").mkdir()
    server = ZohoServerProcess(state=base / "zoho" / "state.sqlite", users=export.users,
                               workdir=base / "zoho").start()
    try:
        propose_and_confirm(export, base / "propose.duckdb", local_config(server))
        sign_off_sample(base / "work", export.dbt)
        share_manifest(export.dbt, base, base / "work")  # the workers' DAG files render from it
        yield base, export, server
    finally:
        server.close()


def _cutover_env(scenario) -> dict[str, str]:
    from clinic2zoho.zoho.connection import connection_json
    from tests.dags.scenario import local_config

    base, export, server = scenario
    return {
        "AIRFLOW_CONN_ZOHO_DEFAULT": connection_json(local_config(server)),
        "CLINIC2ZOHO_HOME": str(base / "work"),
        "CLINIC2ZOHO_DBT_PROJECT": str(export.dbt),
        "CLINIC2ZOHO_SOURCE_FORMAT": "generic",
        # parsing renders the dbt project from the work folder's manifest; these bound a busy box
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
        "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "300",
    }


class SessionCluster:
    """The session's cluster and when to stop it: after `last_user`, the last test in run order
    that uses it, not at the session's end (on an xdist worker other groups run after ours, and an
    idle cluster keeps six processes, ~1.9 GiB and the dag-processor's re-parsing going)."""

    def __init__(self, cluster: AirflowCluster, files: list[str], last_user: str, config: pytest.Config):
        self.cluster, self.files, self.last_user, self.config = cluster, files, last_user, config
        self.stopped = False

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        failed = bool(self.config.stash.get(_FAILED_USERS, set()))
        self.cluster.stop(dump_logs=failed)
        c = self.cluster
        print(f"\ncluster {c.database} serving {self.files}: {c.timings} {c.memory_report()}")


@pytest.fixture(scope="session")
def _session_cluster(request, tmp_path_factory):
    reason = services_unavailable()
    if reason:
        pytest.skip(f"cluster test needs PostgreSQL and Redis on loopback: {reason}")
    items = request.session.items
    files = served_dag_files(items)
    last_user = [item for item in items if "airflow_cluster" in item.fixturenames][-1].nodeid
    # requested here, not as an argument, so a session without the cutover prepares no scenario
    env = _cutover_env(request.getfixturevalue("cutover_scenario")) if CUTOVER_DAG in files else {}
    # memory figures come from `python -m tests.cluster.harness`, not from the suite
    cluster = AirflowCluster(tmp_path_factory.mktemp("cluster"), dags=[ROOT / "dags" / n for n in files], env=env,
                             sample_memory=False)
    try:
        cluster.start()
        # every served file parsed before the first test, so no test's run timeout pays for
        # another DAG's parse (one parsing process; the cutover's renders the dbt project)
        parsing = time.monotonic()
        for name in files:
            cluster.wait_for_dag(name.removesuffix(".py"), timeout=300)
        cluster.timings["dags_parsed_s"] = time.monotonic() - parsing
    except BaseException:
        cluster.stop(dump_logs=True)
        raise
    session = SessionCluster(cluster, files, last_user, request.config)
    try:
        yield session
    finally:  # the session ended before the last user ran (-x, an interrupt, xdist ran it elsewhere)
        session.stop()


@pytest.fixture
def airflow_cluster(request, _session_cluster: SessionCluster):
    """The session's cluster, its pools set back to those it started with (an earlier test may
    have changed one and failed before restoring it); stopped after the last test using it."""
    if _session_cluster.stopped:
        pytest.fail(f"the session's cluster was stopped after {_session_cluster.last_user}, which ran "
                    f"before {request.node.nodeid} against the collection order", pytrace=False)
    cluster = _session_cluster.cluster
    for name, (slots, description) in cluster.pools.items():
        cluster.set_pool(name, slots, description)
    yield cluster
    if request.node.nodeid == _session_cluster.last_user:
        _session_cluster.stop()
