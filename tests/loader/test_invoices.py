"""Invoices carry their Invoiced_Items line items inline through the record API, each line's
product named in the table and resolved to its Zoho id in the org being loaded."""

from __future__ import annotations

from clinic2zoho.loader.journal import JournalReader
from clinic2zoho.loader.plan import LoadPlan, ModuleSpec

from tests.loader.conftest import _ext_field, load

PLAN = LoadPlan((
    ModuleSpec("zoho.zoho_accounts", "Accounts", "Clinic_Account_Id"),
    ModuleSpec("zoho.zoho_contacts", "Contacts", "Clinic_Patient_Id", {"Account_Name": "Accounts"}),
    ModuleSpec("zoho.zoho_invoices", "Invoices", "Clinic_Claim_Id", {"Contact_Name": "Contacts"},
               subforms=("Invoiced_Items",)),
))


def test_invoice_lines_go_inline_with_the_product_resolved_by_name(org, clinic):
    with org.client() as c:
        c.create_field("Invoices", _ext_field("Clinic Claim Id"))
        product = c.insert("Products", [{"Product_Name": "Clinic services"}])[0].id
    clinic.sql("""CREATE TABLE zoho.zoho_invoices AS
        SELECT 'cl' || i AS Clinic_Claim_Id, 'Claim cl' || i AS Subject, 'p' || i AS Contact_Name,
               CAST(json_array(json_object('Product_Name', json_object('name', 'Clinic services'),
                    'Quantity', 1, 'List_Price', 40.5 + i)) AS VARCHAR) AS Invoiced_Items
        FROM range(1, 8) r(i)""")
    clinic.sql("UPDATE zoho.zoho_invoices SET Invoiced_Items = '[{\"Product_Name\": {\"name\": \"Gift shop\"}}]'"
               " WHERE Clinic_Claim_Id = 'cl7'")
    clinic.plan = PLAN
    load(org, clinic)
    with JournalReader(clinic.journal) as q:
        assert dict(q.sql("SELECT status, count(*) FROM load_journal WHERE module = 'Invoices' GROUP BY 1")) == {
            "done": 6, "rejected": 1}
        assert q.sql("SELECT path FROM load_journal WHERE module = 'Invoices' AND status = 'done' LIMIT 1") == [("record",)]
        assert q.sql("SELECT source_key, code, field FROM load_rejects") == [("cl7", "LOOKUP_UNRESOLVED", "Invoiced_Items")]
    with org.client() as c:
        inv = next(c.search("Invoices", "(Clinic_Claim_Id:equals:cl3)"))
        full = c.get("Invoices", inv["id"])
    lines = full["Invoiced_Items"]
    assert len(lines) == 1 and lines[0]["Product_Name"]["id"] == product
