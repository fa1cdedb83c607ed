"""Validation fails on records rejected for a reason a person resolves before the load: an owner
who is no user of the org (OWNER_UNRESOLVED), and the records rejected with a patient Zoho
refused as DUPLICATE_DATA (a merge would have kept them), found by following each rejected row's
lookup or parent. Rejected rows count as accounted for, but not as passed."""

from __future__ import annotations

from clinic2zoho.reports import validate_run
from tests.loader.conftest import load


def test_rows_a_person_could_have_saved_fail_validation_by_id(org, clinic, work_home):
    # p2 is p12 typed twice: Zoho keeps Email unique on insert and refuses the second one
    clinic.sql("ALTER TABLE zoho.zoho_contacts ADD COLUMN Email VARCHAR")
    clinic.sql("UPDATE zoho.zoho_contacts SET Email = 'same.person@example.org' WHERE Clinic_Patient_Id IN ('p2', 'p12')")
    load(org, clinic)
    with org.client() as client:
        result = validate_run("run1", client, warehouse=clinic.warehouse, journal_root=clinic.journal,
                              reports_dir=work_home / "reports", seed=1)
    refused = "p12" if any(r["Clinic_Patient_Id"] == "p2" for r in org.records("Contacts", ["Clinic_Patient_Id"])) \
        else "p2"
    assert not result.ok
    owner = next(p for p in result.problems if "OWNER_UNRESOLVED" in p)
    assert owner.startswith("Events: 1 row(s) rejected as OWNER_UNRESOLVED (a5)")
    # what hung under the refused patient: its appointments (Who_Id) and notes, its insurance plan
    with_it = [p for p in result.problems if "rejected with a record refused as DUPLICATE_DATA" in p]
    n = int(refused[1:])
    events = sorted(f"a{i}" for i in range(1, 21) if i % 30 + 1 == n and i != 5)
    assert any(p.startswith(f"Events: {len(events)} row(s)") and ", ".join(events) in p for p in with_it)
    assert any(p.startswith(f"Insurance: 1 row(s) rejected with a record refused as DUPLICATE_DATA (ins{n})")
               for p in with_it)
    assert "same.person" not in " ".join(result.problems)
