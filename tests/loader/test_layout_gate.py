"""The load stops before anything moves when a table leaves a layout-mandatory field empty.

What is mandatory comes from the org's layouts (GET /settings/layouts, OAS layouts.json), which
the local server models on Zoho's standard layouts: Zoho's "CRM modules & fields" help page
(https://www.zoho.com/crm/help/api/modules-fields.html) marks a Lead's Last Name* and Company*
mandatory, an Account's Account Name*, a Contact's Last Name*."""

from __future__ import annotations

import duckdb
import pytest

from clinic2zoho.loader.layout_gate import LayoutGapsFound, layout_gaps
from clinic2zoho.loader.plan import LoadPlan, ModuleSpec
from clinic2zoho.loader.run import Loader
from clinic2zoho.loader.source import TableSource
from tests.loader.conftest import settings_for

LEADS = ModuleSpec("zoho.zoho_leads", "Leads", "Clinic_Patient_Id")
ACCOUNTS = ModuleSpec("zoho.zoho_accounts", "Accounts", "Clinic_Account_Id")
PLAN = LoadPlan((ACCOUNTS, LEADS))


@pytest.fixture
def leads_org(org):
    with org.client() as c:
        c.create_field("Leads", {"field_label": "Clinic Patient Id", "data_type": "text", "length": 64,
                                 "external": {"type": "org"}})
    return org


def _leads(clinic, company_sql: str | None) -> None:
    company = f", {company_sql} AS Company" if company_sql else ""
    clinic.sql(f"""CREATE OR REPLACE TABLE zoho.zoho_leads AS
        SELECT 'l' || i AS Clinic_Patient_Id, 'Lead' || i AS Last_Name{company} FROM range(1, 6) r(i)""")


def test_absent_column_is_a_gap_with_every_row(leads_org, clinic):
    _leads(clinic, None)
    with leads_org.client() as c:
        gaps = layout_gaps(c, PLAN, TableSource(clinic.warehouse))
    assert [(g.module, g.field, g.column_absent, g.rows, g.empty_rows) for g in gaps] == [("Leads", "Company", True, 5, 5)]


def test_null_and_blank_rows_are_counted(leads_org, clinic):
    _leads(clinic, "CASE WHEN i = 2 THEN NULL WHEN i = 4 THEN '' ELSE 'Individual (patient)' END")
    with leads_org.client() as c:
        gaps = layout_gaps(c, PLAN, TableSource(clinic.warehouse))
    assert [(g.field, g.column_absent, g.empty_rows, g.rows) for g in gaps] == [("Company", False, 2, 5)]
    # Account_Name is system-mandatory and filled in every row of the Accounts table: no gap
    assert not [g for g in gaps if g.module == "Accounts"]


def test_filled_tables_have_no_gap_and_the_setting_off_requires_nothing(leads_org, clinic):
    _leads(clinic, "'Individual (patient)'")
    with leads_org.client() as c:
        assert layout_gaps(c, PLAN, TableSource(clinic.warehouse)) == []
    _leads(clinic, None)
    leads_org.server.settings(layout_mandatory=False)  # an org whose Leads layout does not require Company
    with leads_org.client() as c:
        assert layout_gaps(c, PLAN, TableSource(clinic.warehouse)) == []


def test_load_stops_before_any_write(leads_org, clinic):
    _leads(clinic, "CASE WHEN i = 3 THEN NULL ELSE 'Individual (patient)' END")
    clinic.plan = PLAN
    before = leads_org.data_hash()
    with leads_org.client() as client:
        loader = Loader(PLAN, client, run_id="gap", root=clinic.journal, source=TableSource(clinic.warehouse),
                        settings=settings_for(clinic))
        with pytest.raises(LayoutGapsFound) as stopped:
            loader.run()
    assert "Leads.Company" in str(stopped.value) and "empty in 1 of 5 rows" in str(stopped.value)
    assert "layout_mandatory" in str(stopped.value)  # says where a person supplies the rule
    assert leads_org.data_hash() == before  # not one Account was written either
    # once the rule fills every row, the same run loads
    _leads(clinic, "'Individual (patient)'")
    with leads_org.client() as client:
        Loader(PLAN, client, run_id="gap", root=clinic.journal, source=TableSource(clinic.warehouse),
               settings=settings_for(clinic)).run()
    companies = {r["Company"] for r in leads_org.records("Leads", ["Company"])}
    assert companies == {"Individual (patient)"}


def test_the_checks_before_a_load_open_the_warehouse_once(leads_org, clinic, monkeypatch):
    """Every table's columns, rows and empty fields read over one read-only connection."""
    from clinic2zoho.loader import source

    _leads(clinic, "CASE WHEN i = 3 THEN NULL ELSE 'Individual (patient)' END")
    opened: list[bool] = []
    connect = source.duckdb.connect
    monkeypatch.setattr(source.duckdb, "connect", lambda *a, **kw: opened.append(kw.get("read_only")) or connect(*a, **kw))
    with leads_org.client() as client:
        loader = Loader(PLAN, client, run_id="one-look", root=clinic.journal, source=TableSource(clinic.warehouse),
                        settings=settings_for(clinic))
        with pytest.raises(LayoutGapsFound, match="Leads.Company"):  # read both tables, found the gap
            loader.run()
    assert opened == [True]


def test_table_not_built_is_named(leads_org, clinic):
    con = duckdb.connect(str(clinic.warehouse))
    con.execute("DROP TABLE IF EXISTS zoho.zoho_leads")
    con.close()
    with leads_org.client() as c:
        gaps = layout_gaps(c, PLAN, TableSource(clinic.warehouse), modules=["Leads"])
    assert {(g.field, g.rows) for g in gaps} == {("Last_Name", None), ("Company", None)}
    assert all("not built" in g.describe() for g in gaps)
