"""The shared Synthea export, end to end: land and dbt build (the dbt tests' build of it, copied),
propose, confirm, prepare the schema, load in dependency order into the local Zoho server, check
every module's count and lookups in Zoho, then `clinic2zoho rollback --schema` back to the snapshot taken before prepare-schema: the
data hash is equal; the schema equals the one before plus exactly the custom modules the run
created, empty and with their default fields only (Zoho's API cannot delete a module: rollback
leaves them and names them for Setup > Modules)."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from clinic2zoho.cli import main
from clinic2zoho.loader.estimate import PlanLimits, estimate
from clinic2zoho.loader.journal import AuditLog, JournalReader
from clinic2zoho.loader.plan import plan_from_manifest
from clinic2zoho.loader.run import Loader
from clinic2zoho.loader.source import TableSource
from clinic2zoho.mapping import confirmation
from clinic2zoho.mapping.gate import require_confirmed
from clinic2zoho.mapping.propose_command import propose_mapping
from clinic2zoho.mapping.schema_command import prepare_schema
from clinic2zoho.settings import DBT_PROJECT_DIR
from clinic2zoho.zoho import ZohoClient, ZohoConfig
from clinic2zoho.zoho_server.process import ZohoServerProcess
from tests.conftest import ROOT

DEMO = ROOT / "demo" / "synthea_ma27"
# the worker that builds the shared Synthea warehouse for the dbt tests (tests/fixtures/warehouses.py)
pytestmark = pytest.mark.xdist_group("dbt_synthea")


@pytest.mark.slow
def test_synthea_loads_in_order_with_every_lookup_resolved_and_rolls_back(synthea_warehouse, work_home, tmp_path,
                                                                          monkeypatch, capsys):
    # the shared export as the dbt tests built it (landed, its users landed, `dbt build` green): a
    # copy of the same build, not a second one
    assert synthea_warehouse.result.success, synthea_warehouse.result.summary()
    warehouse = synthea_warehouse.copy(work_home)
    dbt = tmp_path / "dbt_project"
    dbt.mkdir()
    for name in ("models", "seeds", "macros", "tests"):
        if (DBT_PROJECT_DIR / name).is_dir():
            shutil.copytree(DBT_PROJECT_DIR / name, dbt / name)
    shutil.copy(DBT_PROJECT_DIR / "dbt_project.yml", dbt / "dbt_project.yml")
    monkeypatch.setenv("CLINIC2ZOHO_DBT_PROJECT", str(dbt))
    plan = plan_from_manifest(synthea_warehouse.result.target_path / "manifest.json")
    journal = work_home / "journal"

    (tmp_path / "zoho").mkdir()
    with ZohoServerProcess(users=DEMO / "zoho_users.json", workdir=tmp_path / "zoho") as server:
        config = ZohoConfig(server.client_id, server.client_secret, server.refresh_token, data_centre=None,
                            accounts_url=server.base_url, api_url=server.base_url, upload_url=server.base_url)
        with ZohoClient(config) as client:
            propose_mapping("synthea", warehouse, dbt, client)
            confirmation.confirm("end-to-end test", dbt)
            before = server.snapshot()
            prepare_schema(client, dbt, run_id="R1", warehouse=warehouse, log=lambda *a: None)
        assert server.snapshot()["schema_hash"] != before["schema_hash"]

        source = TableSource(warehouse)
        counts = {s.module: source.count(s) for s in plan.specs}
        audit = AuditLog(journal, "R1")
        with ZohoClient(config, on_call=audit) as client:
            result = Loader(plan, client, run_id="R1", root=journal, source=source,
                            gate=lambda: require_confirmed(dbt)).run()
        audit.close()
        assert result.pending == 0
        loaded = {m["module"]: m["done"] for m in result.modules}
        assert loaded == counts  # every row of every module is in Zoho
        assert counts["Contacts"] > 0 and counts["Events"] > 0 and counts["Billing_History"] > 0

        with ZohoClient(config) as client:
            for spec in plan.specs:
                if spec.kind != "record" or not counts[spec.module]:
                    continue
                fields = [spec.external_id, *spec.lookups, *([] if not spec.owner_column else ["Owner"])]
                records = list(client.iter_records(spec.module, fields))
                assert len(records) == counts[spec.module], spec.module
                assert len({r[spec.external_id] for r in records}) == len(records), f"duplicates in {spec.module}"
                con = duckdb.connect(str(warehouse), read_only=True)
                expected = {str(k): v for k, v in con.execute(
                    f"SELECT {spec.external_id}, {', '.join(spec.lookups) or 'NULL'} FROM {spec.table}").fetchall()}
                con.close()
                with JournalReader(journal) as q:
                    ids = {m: dict(q.sql("SELECT zoho_id, source_key FROM load_journal WHERE module = ?", [m]))
                           for m in set(spec.lookups.values())}
                for r in records:  # each lookup points at the record of the clinic key the table holds
                    for col, target in spec.lookups.items():
                        want = expected[str(r[spec.external_id])] if len(spec.lookups) == 1 else None
                        if want is None or not r.get(col):
                            continue
                        assert ids[target][r[col]["id"]] == str(want), (spec.module, col)
                    if spec.owner_column:
                        assert r["Owner"] and r["Owner"]["id"]

        with JournalReader(journal) as q:
            spent = q.sql("SELECT sum(credits) FROM audit_log")[0][0]
        predicted = estimate(plan, counts, PlanLimits()).credits
        assert abs(predicted - spent) <= 0.10 * spent, (predicted, spent)

        con = duckdb.connect(str(warehouse), read_only=True)
        made = con.execute("SELECT kind, module, field FROM ops.schema_changes WHERE run_id = 'R1'").fetchall()
        con.close()
        created_modules = {m for k, m, _ in made if k == "module"}
        assert {k for k, _, _ in made} >= {"field", "module", "record"} and created_modules

        for name, value in (("ZOHO_CLIENT_ID", server.client_id), ("ZOHO_CLIENT_SECRET", server.client_secret),
                            ("ZOHO_REFRESH_TOKEN", server.refresh_token), ("ZOHO_API_URL", server.base_url)):
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        assert main(["rollback", "--run", "R1", "--schema", "--journal", str(journal),
                     "--warehouse", str(warehouse)]) == 0
        out = capsys.readouterr().out
        after = server.snapshot()
        assert after["data_hash"] == before["data_hash"]

        # Zoho's API deletes fields and pick-list values, not modules: the schema is the one before
        # plus exactly the custom modules the run created, empty, with a new custom module's fields.
        left = set(after["schema"]) - set(before["schema"])
        assert left == created_modules
        assert {m: after["schema"][m] for m in before["schema"]} == before["schema"]
        assert all(m not in after["data"] for m in left)
        with ZohoClient(config) as client:
            reference = client.create_module("Reference", "References", api_name="Reference_Module")
            defaults = [(f["api_name"], f["data_type"]) for f in client.fields(reference["api_name"])]
        for m in left:
            assert not [f for f in after["schema"][m]["fields"] if f["custom_field"]], m
            assert [(f["api_name"], f["data_type"]) for f in after["schema"][m]["fields"]] == defaults, m
        line = next(x for x in out.splitlines() if "remove in Setup > Modules" in x and x.startswith("custom modules"))
        assert set(line.split(": ", 1)[1].split(", ")) == created_modules
        report = json.loads((work_home / "reports" / "load_R1.json").read_text())
        assert set(report["modules_to_remove_in_setup"]) == created_modules
        assert {r["status"] for r in report["schema_rollback"]} == {"done", "left"}
