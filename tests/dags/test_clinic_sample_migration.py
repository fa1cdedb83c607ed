"""The sample migration DAG end to end with `dag.test()`: production and sandbox orgs (two local
Zoho servers), the sample loaded into the sandbox only, the field-level diff written; then one
loaded field corrupted in the sandbox is caught by the diff and by validation's spot check."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import duckdb
import pytest

from clinic2zoho.generator import generate_export
from clinic2zoho.landing import land_export
from clinic2zoho.mapping import confirmation
from clinic2zoho.mapping.propose_command import propose_mapping
from clinic2zoho.reports import sample_diff, validate_run
from clinic2zoho.reports.compare import MISMATCH
from clinic2zoho.zoho import ZohoClient, ZohoConfig
from clinic2zoho.zoho.connection import connection_json
from clinic2zoho.zoho_server.process import ZohoServerProcess
from tests.conftest import ROOT
from tests.dags.test_clinic_cutover import copy_dbt_project

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dag_clinic_sample")]

PATIENTS = 150


def config(server: ZohoServerProcess) -> ZohoConfig:
    url = server.base_url
    return ZohoConfig(server.client_id, server.client_secret, server.refresh_token, data_centre=None,
                      accounts_url=url, api_url=url, upload_url=url)


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
        generate_export(base / "gen", PATIENTS, seed=5)
        dbt = copy_dbt_project(base / "dbt_project")
        mp.setenv("CLINIC2ZOHO_DBT_PROJECT", str(dbt))
        for org in ("production", "sandbox"):
            (base / org).mkdir()
            servers[org] = ZohoServerProcess(state=base / org / "state.sqlite", users=base / "gen" / "zoho_users.json",
                                             workdir=base / org).start()
        mp.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", connection_json(config(servers["production"])))
        mp.setenv("AIRFLOW_CONN_ZOHO_SANDBOX", connection_json(config(servers["sandbox"])))
        land_export(base / "gen" / "export", "generic", warehouse=home / "warehouse.duckdb")
        with ZohoClient(config(servers["production"])) as client:
            propose_mapping("generic", home / "warehouse.duckdb", dbt, client)
        confirmation.confirm("dag test", dbt)

        spec = importlib.util.spec_from_file_location("clinic_sample_under_test",
                                                      ROOT / "dags" / "clinic_sample_migration.py")
        module = importlib.util.module_from_spec(spec)
        mp.setitem(sys.modules, spec.name, module)
        spec.loader.exec_module(module)
        run = module.dag.test(run_conf={
            "source": str(base / "gen" / "export"), "format": "generic", "seed": 3,
            "provider_email_overrides_file": str(base / "gen" / "provider_email_overrides.csv")})
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
    with ZohoClient(config(servers["sandbox"])) as client:
        in_sandbox = len(list(client.iter_records("Contacts", ["Clinic_Patient_Id"])))
    with ZohoClient(config(servers["production"])) as client:
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
    with ZohoClient(config(sandbox)) as client:
        diff = sample_diff(run_id, client, warehouse=home / "warehouse.duckdb", journal_root=home / "journal",
                           reports_dir=tmp_path)
        checked = validate_run(run_id, client, warehouse=home / "warehouse.duckdb", journal_root=home / "journal",
                               reports_dir=tmp_path, spot_share=1.0, seed=1)
    assert [(r.module, r.key, r.field) for r in diff.mismatches] == [("Contacts", key, "Mailing_City")]
    assert diff.rows[0].status == MISMATCH and diff.rows[0].actual == "Nowhere Corrupted"  # mismatches first
    assert not checked.ok
    assert [(c.module, c.key, c.field) for c in checked.mismatches] == [("Contacts", key, "Mailing_City")]
    assert checked.rollback_command == f"clinic2zoho rollback --run {run_id}"
