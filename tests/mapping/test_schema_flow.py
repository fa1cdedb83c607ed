"""propose → confirm → prepare-schema against the local Zoho server over real HTTP: modules and
fields exist with the right types, a second run is a no-op, a dry run changes nothing, an edit
after confirmation blocks, a conflicting field stops with a clear error."""

from __future__ import annotations

import duckdb
import pytest

from clinic2zoho import cli
from clinic2zoho.loader.journal import JournalReader
from clinic2zoho.loader.run import run_summary
from clinic2zoho.mapping import confirmation
from clinic2zoho.mapping.gate import MappingNotConfirmed, require_confirmed
from clinic2zoho.mapping.propose_command import propose_mapping
from clinic2zoho.mapping.schema import SchemaConflict
from clinic2zoho.mapping.schema_command import prepare_schema
from tests.mapping.conftest import client_for


@pytest.fixture
def proposed(generic_warehouse, dbt_copy, zoho_server):
    client = client_for(zoho_server)
    path, _, mapping = propose_mapping("generic", generic_warehouse, dbt_copy, client)
    return client, path, mapping


def test_prepare_creates_modules_and_fields_then_is_a_no_op(proposed, dbt_copy, generic_warehouse, zoho_server):
    client, _, mapping = proposed
    confirmation.confirm("test reviewer", dbt_copy)
    lines: list[str] = []
    plan = prepare_schema(client, dbt_copy, run_id="run-1", warehouse=generic_warehouse, log=lines.append)
    assert plan.steps
    modules = {m["api_name"] for m in client.modules()}
    assert {"Insurance", "Treatments", "Billing_History", "Care_Programs", "Program_Enrollments",
            "Communications"} <= modules
    insurance = {f["api_name"]: f for f in client.fields("Insurance")}
    assert insurance["Effective_Date"]["data_type"] == "date"
    assert insurance["Contact"]["data_type"] == "lookup"
    assert insurance["Clinic_Insurance_Id"].get("external")
    assert {v["actual_value"] for v in insurance["Priority"]["pick_list_values"]} >= {"Primary", "Secondary"}
    billing = {f["api_name"]: f for f in client.fields("Billing_History")}
    assert billing["Amount"]["data_type"] == "currency"
    assert {f["api_name"]: f for f in client.fields("Events")}["Visit_Outcome"]["data_type"] == "picklist"
    assert {f["api_name"]: f for f in client.fields("Tasks")}["Visit_Type"]["data_type"] == "picklist"
    assert any(True for _ in client.search("Products", "(Product_Name:equals:Clinic services)"))
    con = duckdb.connect(str(generic_warehouse), read_only=True)
    kinds = dict(con.execute("select kind, count(*) from ops.schema_changes where run_id = 'run-1' group by kind").fetchall())
    con.close()
    assert kinds["module"] == 6 and kinds["field"] > 20 and kinds["record"] == 1  # the six custom modules
    before = zoho_server.snapshot()["schema_hash"]
    again: list[str] = []
    assert prepare_schema(client, dbt_copy, run_id="run-2", warehouse=generic_warehouse, log=again.append).steps == []
    assert "nothing to change" in again[-1]
    assert zoho_server.snapshot()["schema_hash"] == before


def test_prepare_schema_audits_every_call_that_changes_the_org(proposed, dbt_copy, generic_warehouse, zoho_server,
                                                                tmp_path, monkeypatch):
    confirmation.confirm("test reviewer", dbt_copy)
    home = tmp_path / "home"
    monkeypatch.setenv("CLINIC2ZOHO_HOME", str(home))
    for var, value in (("ZOHO_CLIENT_ID", zoho_server.client_id), ("ZOHO_CLIENT_SECRET", zoho_server.client_secret),
                       ("ZOHO_REFRESH_TOKEN", zoho_server.refresh_token)):
        monkeypatch.setenv(var, value)
    code = cli.main(["prepare-schema", "--dbt-project", str(dbt_copy), "--warehouse", str(generic_warehouse),
                     "--run-id", "schema-audited", "--api-url", zoho_server.api_url,
                     "--accounts-url", zoho_server.accounts_url, "--upload-url", zoho_server.upload_url])
    assert code == 0
    with duckdb.connect(str(generic_warehouse), read_only=True) as con:
        changes = con.execute("select count(*) from ops.schema_changes where run_id = 'schema-audited'").fetchone()[0]
    assert changes > 20
    with JournalReader(home / "journal", runs=["schema-audited"]) as q:
        writes = q.sql("SELECT method, path, status FROM audit_log WHERE method IN ('POST', 'PUT', 'PATCH', 'DELETE')")
    # one audited write at least per recorded change (a module's fields may go in one call)
    assert writes and all(status < 400 for _, _, status in writes)
    assert any("/settings/modules" in path for _, path, _ in writes)
    assert any("/settings/fields" in path for _, path, _ in writes)
    # counted apart from the load's modules, so a load report under the same run id stays its own
    with JournalReader(home / "journal", runs=["schema-audited"]) as q:
        assert q.sql("SELECT DISTINCT module FROM audit_log") == [("(schema)",)]
    summary = run_summary(home / "journal", "schema-audited")
    assert summary["credits_schema"] > 0 and summary["credits_spent"] == 0 and summary["calls"] == 0


def test_dry_run_prints_the_plan_and_changes_nothing(proposed, dbt_copy, generic_warehouse, zoho_server):
    client, _, _ = proposed
    confirmation.confirm("test reviewer", dbt_copy)
    before = zoho_server.snapshot()["schema_hash"]
    lines: list[str] = []
    plan = prepare_schema(client, dbt_copy, dry_run=True, warehouse=generic_warehouse, log=lines.append)
    assert plan.steps and "create custom module Insurance" in lines[-1]
    assert zoho_server.snapshot()["schema_hash"] == before
    con = duckdb.connect(str(generic_warehouse), read_only=True)
    assert not con.execute("select count(*) from information_schema.tables where table_name = 'schema_changes'").fetchone()[0]
    con.close()


def test_edit_after_confirmation_blocks_naming_the_file(proposed, dbt_copy, generic_warehouse):
    client, path, _ = proposed
    with pytest.raises(MappingNotConfirmed, match="never confirmed"):
        require_confirmed(dbt_copy)
    confirmation.confirm("test reviewer", dbt_copy)
    assert require_confirmed(dbt_copy).confirmed_by == "test reviewer"
    path.write_text(path.read_text().replace("target: Contacts.Mailing_City", "target: skip", 1))
    with pytest.raises(MappingNotConfirmed) as err:
        prepare_schema(client, dbt_copy, warehouse=generic_warehouse)
    assert "changed: mapping/generic.yml" in str(err.value) and "clinic2zoho confirm --by NAME" in str(err.value)
    seed = next((dbt_copy / "seeds").glob("*.csv"), None)
    confirmation.confirm("second reviewer", dbt_copy)
    if seed is not None:  # a value-map seed counts too
        seed.write_text(seed.read_text() + "\n")
        with pytest.raises(MappingNotConfirmed, match=f"changed: seeds/{seed.name}"):
            require_confirmed(dbt_copy)


def test_conflicting_field_stops_with_a_clear_error(proposed, dbt_copy, generic_warehouse, zoho_server):
    client, _, _ = proposed
    client.create_field("Contacts", {"field_label": "Patient Status", "data_type": "text", "length": 40})
    confirmation.confirm("test reviewer", dbt_copy)
    before = zoho_server.snapshot()["schema_hash"]
    with pytest.raises(SchemaConflict, match=r"Contacts\.Patient_Status as text, but the mapping needs picklist"):
        prepare_schema(client, dbt_copy, warehouse=generic_warehouse)
    assert zoho_server.snapshot()["schema_hash"] == before


def _prepare_schema_cli(zoho_server, dbt_copy, generic_warehouse, monkeypatch, capsys, **env) -> tuple[int, str]:
    import functools

    from clinic2zoho.zoho import environment

    # Every retry is made; only the waits between them are short (the commands build their
    # ZohoConfig in zoho.environment).
    monkeypatch.setattr(environment, "ZohoConfig",
                        functools.partial(environment.ZohoConfig, backoff_initial=0.01, backoff_max=0.02))
    for var, value in {"ZOHO_CLIENT_ID": zoho_server.client_id, "ZOHO_CLIENT_SECRET": zoho_server.client_secret,
                       "ZOHO_REFRESH_TOKEN": zoho_server.refresh_token, **env}.items():
        monkeypatch.setenv(var, value)
    capsys.readouterr()
    code = cli.main(["prepare-schema", "--dbt-project", str(dbt_copy), "--warehouse", str(generic_warehouse),
                     "--api-url", zoho_server.api_url, "--accounts-url", zoho_server.accounts_url,
                     "--upload-url", zoho_server.upload_url])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_prepare_schema_with_refused_credentials_names_the_setting_to_fix(proposed, dbt_copy, generic_warehouse,
                                                                          zoho_server, monkeypatch, capsys):
    confirmation.confirm("test reviewer", dbt_copy)
    code, out = _prepare_schema_cli(zoho_server, dbt_copy, generic_warehouse, monkeypatch, capsys,
                                    ZOHO_CLIENT_SECRET="wrong-value-4f1c")
    assert code == 3
    assert "Zoho refused the credentials (invalid_client)" in out
    assert "Fix ZOHO_CLIENT_ID and ZOHO_CLIENT_SECRET in the environment" in out and "Traceback" not in out
    assert not any(s in out for s in ("wrong-value-4f1c", zoho_server.client_secret, zoho_server.refresh_token))


def test_prepare_schema_in_a_429_storm_stops_saying_to_run_it_again(proposed, dbt_copy, generic_warehouse,
                                                                     zoho_server, monkeypatch, capsys):
    confirmation.confirm("test reviewer", dbt_copy)
    before = zoho_server.snapshot()["schema_hash"]
    zoho_server.settings(per_minute_credits=0)  # every API call answered 429
    code, out = _prepare_schema_cli(zoho_server, dbt_copy, generic_warehouse, monkeypatch, capsys)
    assert code == 3
    assert "rate limited by Zoho on GET /crm/v8/settings/" in out
    assert "Run prepare-schema again: it creates only what is still missing" in out and "Traceback" not in out
    zoho_server.settings(per_minute_credits=None)
    assert zoho_server.snapshot()["schema_hash"] == before
