"""Rollback returns Zoho to what it held before the run: the server's data snapshot hash taken
before the load equals the one after rollback; partial rollback by module; rollback resumes."""

from __future__ import annotations

import json

import duckdb

from clinic2zoho.loader.journal import AuditLog, JournalReader
from clinic2zoho.loader.rollback import Rollback, rollback_schema

from tests.loader.conftest import load


def _rollback(org, clinic, run_id="run1", modules=None, checkpoint=None):
    audit = AuditLog(clinic.journal, run_id)
    with org.client(on_call=audit) as client:
        out = Rollback(client, run_id, clinic.journal, checkpoint=checkpoint).run(modules)
    audit.close()
    return out


def test_rollback_returns_the_data_hash_to_its_value_before_the_load(org, clinic):
    before = org.data_hash()
    load(org, clinic)
    assert org.data_hash() != before
    result = _rollback(org, clinic)
    assert [r["module"] for r in result] == ["Notes", "Insurance", "Events", "Attachments", "Contacts", "Accounts"]
    assert {r["module"]: r["deleted"] for r in result} == {
        "Accounts": 2, "Contacts": 30, "Events": 18, "Insurance": 14, "Notes": 12, "Attachments": 5}
    assert org.data_hash() == before
    with JournalReader(clinic.journal) as q:  # the rollback is journaled too
        assert q.sql("SELECT count(*) FROM rollback_journal WHERE status = 'done'") == [(81,)]


def test_rollback_of_an_update_run_restores_before_images(org, clinic):
    load(org, clinic, run_id="run1")
    after_first = org.data_hash()
    clinic.sql("UPDATE zoho.zoho_contacts SET First_Name = 'Changed', Account_Name = 'c1'")
    load(org, clinic, run_id="run2", modules=["Contacts"])
    assert org.data_hash() != after_first
    assert _rollback(org, clinic, "run2") == [{"module": "Contacts", "deleted": 0, "restored": 30, "failed": 0}]
    assert org.data_hash() == after_first


def test_partial_rollback_of_one_module_then_the_rest(org, clinic):
    before = org.data_hash()
    load(org, clinic)
    _rollback(org, clinic, modules=["Notes"])
    assert org.records("Contacts", ["Clinic_Patient_Id"])
    with org.client() as c:
        assert all(not c.notes("Contacts", r["id"]) for r in org.records("Contacts", ["Clinic_Patient_Id"]))
    _rollback(org, clinic)  # the rest; Notes already undone are skipped
    assert org.data_hash() == before


def test_a_rollback_that_died_part_way_resumes(org, clinic):
    before = org.data_hash()
    load(org, clinic)

    class Die(Exception):
        pass

    seen = {"n": 0}

    def crash_on_third_call(point):
        if point == "after_rollback_call":
            seen["n"] += 1
            if seen["n"] == 3:
                raise Die()

    try:
        _rollback(org, clinic, checkpoint=crash_on_third_call)
    except Die:
        pass
    assert org.data_hash() != before
    _rollback(org, clinic)
    assert org.data_hash() == before


def test_schema_rollback_removes_the_product_and_reports_what_it_cannot(org, clinic):
    with org.client() as c:
        product = c.insert("Products", [{"Product_Name": "Clinic services"}])[0]
    con = duckdb.connect(str(clinic.warehouse))
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    con.execute("""CREATE TABLE ops.schema_changes (run_id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
        module VARCHAR NOT NULL, field VARCHAR, detail JSON, created_at TIMESTAMPTZ NOT NULL)""")
    con.execute("INSERT INTO ops.schema_changes VALUES ('run1', 'record', 'Products', 'Product_Name', ?, now())",
                ['{"values": {"Product_Name": "Clinic services"}, "id": "%s"}' % product.id])
    con.execute("INSERT INTO ops.schema_changes VALUES ('run1', 'field', 'Insurance', 'Carrier', '{}', now())")
    con.close()
    with org.client() as c:
        out = rollback_schema(c, clinic.warehouse, "run1", root=clinic.journal)
        assert c.get("Products", product.id) is None
        assert c.field("Insurance", "Carrier") is None
    # newest first: the field, then the product
    assert [(o["kind"], o["status"], o["outcome"]) for o in out] == [("field", "done", "removed"),
                                                                    ("record", "done", "removed")]


def _record_schema_changes(clinic, run_id, org):
    """ops.schema_changes as prepare-schema writes them for what the `org` fixture created."""
    with org.client() as c:
        ids = {(m, f["api_name"]): f["id"] for m in ("Accounts", "Contacts", "Events", "Insurance") for f in c.fields(m)}
    rows = [("field", "Accounts", "Clinic_Account_Id"), ("field", "Contacts", "Clinic_Patient_Id"),
            ("field", "Events", "Clinic_Appointment_Id"), ("module", "Insurance", None),
            ("field", "Insurance", "Clinic_Insurance_Id"), ("field", "Insurance", "Contact"),
            ("field", "Insurance", "Carrier")]
    con = duckdb.connect(str(clinic.warehouse))
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    con.execute("""CREATE TABLE IF NOT EXISTS ops.schema_changes (run_id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
        module VARCHAR NOT NULL, field VARCHAR, detail JSON, created_at TIMESTAMPTZ NOT NULL)""")
    for n, (kind, module, field) in enumerate(rows):
        detail = {"field_id": ids[(module, field)]} if field else {"plural_label": module}
        con.execute("INSERT INTO ops.schema_changes VALUES (?, ?, ?, ?, ?, TIMESTAMPTZ '2024-01-01 00:00:00+00' + "
                    "to_seconds(?))", [run_id, kind, module, field, json.dumps(detail), n])
    con.close()


def test_schema_rollback_waits_for_the_runs_records_then_resumes_to_an_empty_module(org, clinic):
    load(org, clinic)
    _record_schema_changes(clinic, "run1", org)
    with org.client() as c:  # records first: nothing of the schema goes while the run's records remain
        early = rollback_schema(c, clinic.warehouse, "run1", root=clinic.journal)
    assert {o["status"] for o in early} == {"kept"} and "not rolled back yet" in early[0]["outcome"]
    assert org.records("Insurance", ["Carrier"])
    _rollback(org, clinic)

    class Die(Exception):
        pass

    def die_after_second_call(point, seen={"n": 0}):
        if point == "after_schema_call":
            seen["n"] += 1
            if seen["n"] == 2:
                raise Die()

    with org.client() as c:
        try:
            rollback_schema(c, clinic.warehouse, "run1", root=clinic.journal, checkpoint=die_after_second_call)
        except Die:
            pass
        out = rollback_schema(c, clinic.warehouse, "run1", root=clinic.journal)
        fields = {f["api_name"] for f in c.fields("Insurance")}
        assert c.field("Contacts", "Clinic_Patient_Id") is None and c.field("Accounts", "Clinic_Account_Id") is None
    # reverse order of creation; the two done before the crash are not undone again
    assert [(o["module"], o["field"], o["status"]) for o in out] == [
        ("Insurance", "Carrier", "done"), ("Insurance", "Contact", "done"), ("Insurance", "Clinic_Insurance_Id", "done"),
        ("Insurance", None, "left"), ("Events", "Clinic_Appointment_Id", "done"),
        ("Contacts", "Clinic_Patient_Id", "done"), ("Accounts", "Clinic_Account_Id", "done")]
    # the first was journaled done before the crash; the second was made but not journaled: found gone
    assert [o["outcome"] for o in out[:2]] == ["removed (earlier rollback)", "removed (already gone)"]
    assert "remove in Setup > Modules" in out[3]["outcome"]
    assert "Name" in fields and not fields & {"Carrier", "Contact", "Clinic_Insurance_Id"}
    with JournalReader(clinic.journal, runs=["run1"]) as q:  # journaled with the rest of the rollback
        journaled = q.sql("SELECT action, module, status FROM rollback_journal WHERE source_key LIKE 'schema:%'"
                          " ORDER BY ALL")
    assert journaled == sorted([("delete_field", m, "done") for m in ("Accounts", "Contacts", "Events")]
                               + [("delete_field", "Insurance", "done")] * 3 + [("remove_module", "Insurance", "left")])
