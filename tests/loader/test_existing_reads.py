"""A load of a few rows into a module holding many reads what exists by COQL on its keys instead
of listing the whole module; counted on the local server's call log (GET /__admin/calls).

Zoho's limits: a listing returns 200 records a page (get-records page), COQL takes 50 values in
`in` (COQL limitations page), the record count is one call (record_count.json)."""

from __future__ import annotations

import math

from clinic2zoho.loader.plan import LoadPlan, ModuleSpec
from tests.loader.conftest import load

CONTACTS = LoadPlan((ModuleSpec("zoho.zoho_contacts", "Contacts", "Clinic_Patient_Id"),))


def _contacts(clinic, first: int, last: int, name: str) -> None:
    clinic.sql(f"""CREATE OR REPLACE TABLE zoho.zoho_contacts AS SELECT 'p' || i AS Clinic_Patient_Id,
                   '{name}' || i AS Last_Name FROM range({first}, {last} + 1) r(i)""")


def test_a_small_load_into_a_large_module_reads_by_key(org, clinic):
    clinic.plan = CONTACTS
    _contacts(clinic, 1, 450, "Patient")
    load(org, clinic, run_id="full", force_path="record")
    _contacts(clinic, 441, 470, "Renamed")  # 10 held by Zoho already, 20 new
    org.server.calls(reset=True)
    load(org, clinic, run_id="delta", force_path="record")
    calls = [(c["method"], c["path"]) for c in org.server.calls()["calls"]]
    listing = calls.count(("GET", "/crm/v8/Contacts"))
    coql = calls.count(("POST", "/crm/v8/coql"))
    counted = calls.count(("GET", "/crm/v8/Contacts/actions/count"))
    assert (listing, counted, coql) == (0, 1, math.ceil(30 / 50))  # the listing would take ceil(450 / 200) = 3
    names = {r["Clinic_Patient_Id"]: r["Last_Name"] for r in org.records("Contacts", ["Clinic_Patient_Id", "Last_Name"])}
    assert len(names) == 470 and names["p441"] == "Renamed441" and names["p440"] == "Patient440"
    print(f"\nreading what exists for 30 rows in a module of 450: {counted + coql} calls (listing: "
          f"{math.ceil(450 / 200)})")
