"""Rollback returns Zoho to what it held before the run: the server's data snapshot hash taken
before the load equals the one after rollback; partial rollback by module; rollback resumes."""

from __future__ import annotations

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
        out = rollback_schema(c, clinic.warehouse, "run1")
        assert c.get("Products", product.id) is None
    # newest first: the field (the client cannot delete fields: said, not hidden), then the product
    assert [(o["kind"], o["outcome"].split(":")[0]) for o in out] == [("field", "not removed"), ("record", "removed")]
