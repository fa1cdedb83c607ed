"""The rollback `clinic2zoho migrate` prints runs as printed after the demo: no ZOHO_* variable set,
the local servers stopped, another CLINIC2ZOHO_HOME in the environment. The work folder is laid out
as the demo's (its orgs started by migrate's own `start_servers`, a run loaded into production and
journaled under the folder, the delta window of that run open); the printed string, run through the
CLI entry point, starts the production org from its saved state, undoes the run (record counts and
data read back over HTTP equal what the org held before the load), prints no credential and closes
the run's delta window."""

from __future__ import annotations

import json
import shlex

import pytest

from clinic2zoho import cli, migrate
from clinic2zoho.zoho_server.work_orgs import start_local_org

from tests.loader.conftest import PROVIDERS, RECORD_MODULES, Clinic, Org, build_clinic, load, prepare_schema

RUN_ID = migrate.journal_id("manual__2025-03-01T09:00:00+00:00")  # as `airflow dags test` names a run


def _counts(org: Org) -> dict[str, int]:
    return {module: len(org.records(module, ["id"])) for module in RECORD_MODULES}


@pytest.fixture
def demo_work(tmp_path, monkeypatch):
    """A demo's work folder after `migrate`: run RUN_ID loaded into the production org, the
    servers stopped; the user's shell in the folder above it, as after `make demo`."""
    from clinic2zoho.delta import open_window

    for var in ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN", "ZOHO_API_URL", "ZOHO_DATA_CENTRE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CLINIC2ZOHO_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("CLINIC2ZOHO_WAREHOUSE", raising=False)
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "work"
    users = tmp_path / "zoho_users.json"
    users.write_text(json.dumps(PROVIDERS))
    clinic = Clinic(home / "warehouse.duckdb", home / "journal", home / "files")
    build_clinic(clinic.warehouse, clinic.files)
    export = tmp_path / "export"
    export.mkdir()
    (export / "patients.csv").write_text("patient_id,phone\np1,555\n")
    servers = migrate.start_servers(home, users)
    try:
        org = Org(servers["production"])
        with org.client() as client:
            prepare_schema(client)
        before = (_counts(org), org.data_hash())
        load(org, clinic, run_id=RUN_ID)
        assert _counts(org) != before[0]
        credentials = {getattr(servers["production"], k) for k in ("client_id", "client_secret", "refresh_token",
                                                                    "admin_token")}
    finally:
        for server in servers.values():
            server.close()
    window = open_window(RUN_ID, 48, export, "generic", warehouse=clinic.warehouse, journal_root=clinic.journal)
    return home, before, credentials, window


def test_the_printed_rollback_runs_as_printed_against_the_work_folders_org(demo_work, capsys):
    from clinic2zoho.delta import get_window

    home, (counts_before, hash_before), credentials, window = demo_work
    printed = migrate.undo_command(RUN_ID, home)
    assert printed == f"clinic2zoho rollback --run {RUN_ID} --work work"
    argv = shlex.split(printed)
    assert argv[0] == "clinic2zoho"

    assert cli.main(argv[1:]) == 0
    out = capsys.readouterr().out
    assert "started from its saved state" in out and "Contacts" in out
    assert not [c for c in credentials if c in out]

    with start_local_org(home, "production") as server:  # the state the rollback left, read over HTTP
        org = Org(server)
        assert _counts(org) == counts_before and org.data_hash() == hash_before
    closed = get_window(window.window_id, home / "warehouse.duckdb")
    assert closed.status == "closed" and closed.close_reason == "its cutover run was rolled back"
