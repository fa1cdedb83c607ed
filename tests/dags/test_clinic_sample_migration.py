"""The sample migration DAG end to end with `dag.test()`: production and sandbox orgs (two local
Zoho servers), the sample loaded into the sandbox only, the field-level diff written; then one
loaded field corrupted in the sandbox is caught by the diff and by validation's spot check."""

from __future__ import annotations

import csv

import duckdb
import pytest

from clinic2zoho.reports import sample_diff, validate_run
from clinic2zoho.reports.compare import MISMATCH
from clinic2zoho.zoho import ZohoClient
from clinic2zoho.zoho.connection import connection_json
from clinic2zoho.zoho_server.process import ZohoServerProcess
from tests.conftest import ROOT
from tests.dags.scenario import generate, load_dag_file, local_config, propose_and_confirm

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dag_clinic_sample")]

PATIENTS = 150


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("sample")
    mp = pytest.MonkeyPatch()
    servers: dict[str, ZohoServerProcess] = {}
    try:
        home = base / "work"
        home.mkdir()
        mp.setenv("CLINIC2ZOHO_HOME", str(home))
        mp.delenv("CLINIC2ZOHO_WAREHOUSE", raising=False)
        mp.delenv("CLINIC2ZOHO_REPORTS", raising=False)
        mp.setenv("CLINIC2ZOHO_DBT_SELECT", "")
        mp.setenv("CLINIC2ZOHO_SOURCE_FORMAT", "generic")
        scenario = generate(base, PATIENTS, seed=5)
        mp.setenv("CLINIC2ZOHO_DBT_PROJECT", str(scenario.dbt))
        for org in ("production", "sandbox"):
            (base / org).mkdir()
            servers[org] = ZohoServerProcess(state=base / org / "state.sqlite", users=scenario.users,
                                             workdir=base / org).start()
        mp.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", connection_json(local_config(servers["production"])))
        mp.setenv("AIRFLOW_CONN_ZOHO_SANDBOX", connection_json(local_config(servers["sandbox"])))
        propose_and_confirm(scenario, home / "warehouse.duckdb", local_config(servers["production"]))

        dag = load_dag_file(mp, ROOT / "dags" / "clinic_sample_migration.py", "clinic_sample_under_test")
        run = dag.test(run_conf=scenario.run_conf(seed=3))
        yield run, servers, home
    finally:
        for server in servers.values():
            server.close()
        mp.undo()


def test_the_sample_goes_to_the_sandbox_only_and_the_diff_is_written(sample_run):
    from airflow.utils.state import DagRunState, TaskInstanceState

    run, servers, home = sample_run
    tis = {ti.task_id: ti for ti in run.get_task_instances()}
    assert run.state == DagRunState.SUCCESS, {t: ti.state for t, ti in tis.items() if ti.state != "success"}
    assert all(ti.state == TaskInstanceState.SUCCESS for ti in tis.values())
    chosen = tis["select_sample"].xcom_pull(task_ids="select_sample")
    assert 100 <= chosen["sample"]["patients"] <= 300

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        sampled = con.execute("SELECT count(*) FROM sample.zoho_contacts").fetchone()[0]
        everyone = con.execute("SELECT count(*) FROM zoho.zoho_contacts").fetchone()[0]
    assert 0 < sampled < everyone
    with ZohoClient(local_config(servers["sandbox"])) as client:
        in_sandbox = len(list(client.iter_records("Contacts", ["Clinic_Patient_Id"])))
    with ZohoClient(local_config(servers["production"])) as client:
        in_production = len(list(client.iter_records("Contacts", ["Clinic_Patient_Id"])))
    assert in_production == 0  # the sample never touches production
    assert 0 < in_sandbox <= sampled

    diff = tis["sample_diff"].xcom_pull(task_ids="sample_diff")
    assert diff["mismatches"] == 0 and diff["fields"] > 0
    rows = list(csv.DictReader(open(home / "reports" / "sample_diff.csv", encoding="utf-8")))
    assert {r["module"] for r in rows} >= {"Contacts", "Events", "Insurance"}
    assert all(r["rule"] for r in rows if r["status"] == "match")
    assert (home / "reports" / "sample_diff.html").is_file()


def test_a_corrupted_field_in_zoho_is_caught_by_the_diff_and_the_spot_check(sample_run, tmp_path):
    run, servers, home = sample_run
    run_id = run.get_task_instance("sample_diff").xcom_pull(task_ids="sample_diff")["run_id"]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        key, zid = con.execute("SELECT source_key, zoho_id FROM ops.load_journal WHERE run_id = ? AND module ="
                               " 'Contacts' AND status = 'done' ORDER BY source_key LIMIT 1", [run_id]).fetchone()
    sandbox = servers["sandbox"]
    sandbox.set_record_fields("Contacts", zid, {"Mailing_City": "Nowhere Corrupted"})
    with ZohoClient(local_config(sandbox)) as client:
        diff = sample_diff(run_id, client, warehouse=home / "warehouse.duckdb", journal_root=home / "journal",
                           reports_dir=tmp_path)
        checked = validate_run(run_id, client, warehouse=home / "warehouse.duckdb", journal_root=home / "journal",
                               reports_dir=tmp_path, spot_share=1.0, seed=1)
    assert [(r.module, r.key, r.field) for r in diff.mismatches] == [("Contacts", key, "Mailing_City")]
    assert diff.rows[0].status == MISMATCH and diff.rows[0].actual == "Nowhere Corrupted"  # mismatches first
    assert not checked.ok
    assert [(c.module, c.key, c.field) for c in checked.mismatches] == [("Contacts", key, "Mailing_City")]
    assert checked.rollback_command == f"clinic2zoho rollback --run {run_id}"
