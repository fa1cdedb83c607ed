"""The commands: `clinic2zoho load` refuses an unconfirmed mapping, `estimate` prints credits and
days, `rollback --run` undoes a run through the command line."""

from __future__ import annotations

import pytest

from clinic2zoho.cli import main

from tests.loader.conftest import load


@pytest.fixture
def zoho_env(org, monkeypatch):
    monkeypatch.setenv("ZOHO_CLIENT_ID", org.server.client_id)
    monkeypatch.setenv("ZOHO_CLIENT_SECRET", org.server.client_secret)
    monkeypatch.setenv("ZOHO_REFRESH_TOKEN", org.server.refresh_token)
    monkeypatch.setenv("ZOHO_API_URL", org.server.base_url)
    return org


def test_load_refuses_an_unconfirmed_mapping_and_sends_nothing(zoho_env, clinic, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CLINIC2ZOHO_DBT_PROJECT", str(tmp_path / "unconfirmed_dbt"))
    (tmp_path / "unconfirmed_dbt").mkdir()
    plan = tmp_path / "plan.json"
    plan.write_text(clinic.plan.to_json())
    before = zoho_env.data_hash()
    assert main(["load", "--plan", str(plan), "--warehouse", str(clinic.warehouse)]) == 2
    assert "clinic2zoho confirm" in capsys.readouterr().out
    assert zoho_env.data_hash() == before


def test_estimate_prints_credits_and_days(clinic, tmp_path, capsys):
    plan = tmp_path / "plan.json"
    plan.write_text(clinic.plan.to_json())
    assert main(["estimate", "--plan", str(plan), "--warehouse", str(clinic.warehouse), "--edition", "Standard",
                 "--users", "4", "--per-minute", "500"]) == 0
    out = capsys.readouterr().out
    assert "Contacts" in out and "credits" in out and "of the plan's 51000 daily credits" in out


def test_rollback_command_undoes_a_run(zoho_env, clinic, capsys):
    before = zoho_env.data_hash()
    load(zoho_env, clinic, run_id="runcli")
    assert main(["rollback", "--run", "runcli", "--journal", str(clinic.journal),
                 "--warehouse", str(clinic.warehouse)]) == 0
    assert "Contacts" in capsys.readouterr().out
    assert zoho_env.data_hash() == before
    import duckdb

    con = duckdb.connect(str(clinic.warehouse), read_only=True)
    assert con.execute("SELECT count(*) FROM ops.rollback_journal WHERE status = 'done'").fetchone() == (81,)
    con.close()


def test_rollback_schema_command_names_the_modules_left_for_setup(zoho_env, clinic, capsys, work_home):
    import json

    from tests.loader.test_rollback import _record_schema_changes

    load(zoho_env, clinic, run_id="runschema")
    _record_schema_changes(clinic, "runschema", zoho_env)
    assert main(["rollback", "--run", "runschema", "--schema", "--journal", str(clinic.journal),
                 "--warehouse", str(clinic.warehouse)]) == 0
    out = capsys.readouterr().out
    assert "schema field Insurance.Carrier: removed" in out
    assert "custom modules left in Zoho (Zoho's API cannot delete modules), remove in Setup > Modules: Insurance" in out
    report = json.loads((work_home / "reports" / "load_runschema.json").read_text())
    assert report["modules_to_remove_in_setup"] == ["Insurance"]
    assert sorted(r["status"] for r in report["schema_rollback"]) == ["done"] * 6 + ["left"]
    assert "remove in Setup &gt; Modules: Insurance" in (work_home / "reports" / "load_runschema.html").read_text()
