"""TableSource.held: the reads of a block (the layout gate's before a load) over one read-only
connection, the same answers as one open per read, and the connection closed after the block."""

from __future__ import annotations

import duckdb
import pytest

from clinic2zoho.loader.plan import ModuleSpec
from clinic2zoho.loader.source import TableSource


def test_reads_in_a_held_block_share_one_connection_and_answer_as_single_reads(tmp_path, monkeypatch):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA sample")
        con.execute("CREATE TABLE sample.zoho_leads AS SELECT * FROM (VALUES ('l1', 'Ann', ''), ('l2', 'Bo', NULL), "
                    "('l3', NULL, 'Acme')) t(Clinic_Patient_Id, Last_Name, Company)")
    leads = ModuleSpec("sample.zoho_leads", "Leads", "Clinic_Patient_Id")
    contacts = ModuleSpec("sample.zoho_contacts", "Contacts", "Clinic_Patient_Id")
    source = TableSource(warehouse)
    single = (source.columns(leads), source.count(leads), source.empty_counts(leads, ["Last_Name", "Company"]),
              [r["Clinic_Patient_Id"] for r in source.rows(leads)])
    assert single[2] == {"__rows__": 3, "Last_Name": 1, "Company": 2}
    opened = []
    connect = duckdb.connect
    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: opened.append(a) or connect(*a, **k))
    with source.held() as held:
        assert (held.columns(leads), held.count(leads), held.empty_counts(leads, ["Last_Name", "Company"]),
                [r["Clinic_Patient_Id"] for r in held.rows(leads)]) == single
        with pytest.raises(duckdb.CatalogException):  # not built: the layout gate names its mandatory fields
            held.columns(contacts)
        assert held.count(leads) == 3  # the connection outlives a failed read
        kept = held._held
    assert len(opened) == 1
    with pytest.raises(duckdb.ConnectionException):  # closed once the block ends
        kept.execute("SELECT 1")
    assert source.count(leads) == 3  # and reads open their own again
    assert len(opened) == 2
