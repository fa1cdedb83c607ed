"""The sample's tables as the checks before its load read them (sample.tables.SampleTables): what
a TableSource reads, over one connection, with the row counts the selection wrote."""

from __future__ import annotations

import duckdb
import pytest

from clinic2zoho.loader.plan import ModuleSpec
from clinic2zoho.loader.source import TableSource
from clinic2zoho.sample.tables import SampleTables


def test_sample_tables_read_what_a_table_source_reads_over_one_connection(tmp_path, monkeypatch):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA sample")
        con.execute("CREATE TABLE sample.zoho_leads AS SELECT * FROM (VALUES ('l1', 'Ann', ''), ('l2', 'Bo', NULL), "
                    "('l3', NULL, 'Acme')) t(Clinic_Patient_Id, Last_Name, Company)")
    leads = ModuleSpec("sample.zoho_leads", "Leads", "Clinic_Patient_Id")
    contacts = ModuleSpec("sample.zoho_contacts", "Contacts", "Clinic_Patient_Id")
    plain = TableSource(warehouse)
    opened = []
    connect = duckdb.connect
    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: opened.append(a) or connect(*a, **k))
    with SampleTables(warehouse, {"Leads": 3}) as tables:
        assert tables.columns(leads) == ["Clinic_Patient_Id", "Last_Name", "Company"]
        assert tables.count(leads) == 3
        assert tables.empty_counts(leads, ["Last_Name", "Company"]) == {"__rows__": 3, "Last_Name": 1, "Company": 2}
        with pytest.raises(duckdb.CatalogException):  # not built: the layout gate names its mandatory fields
            tables.columns(contacts)
        assert tables.columns(leads)  # the connection outlives a failed read
    assert len(opened) == 1
    monkeypatch.setattr(duckdb, "connect", connect)
    assert plain.empty_counts(leads, ["Last_Name", "Company"]) == {"__rows__": 3, "Last_Name": 1, "Company": 2}
