"""Communication consent from the export's patients.csv to the Zoho models: each Contact's and
Lead's Email_Opt_Out, SMS_Opt_Out and Preferred_Contact_Method are what the clinic exported for
that patient, read from the CSV file itself (and the pick-list value through the seed the
mapping file writes)."""

from __future__ import annotations

import csv

import pytest

from clinic2zoho.settings import DBT_PROJECT_DIR

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_generic")]  # shares generic_warehouse


def _exported_patients(generated_export) -> dict[str, dict[str, str]]:
    with open(generated_export.export_dir / "patients.csv", encoding="utf-8", newline="") as fh:
        return {row["patient_id"]: row for row in csv.DictReader(fh)}


def _flag(text: str) -> bool | None:
    return {"true": True, "false": False}.get(text.strip().lower())


@pytest.mark.parametrize("model", ["zoho_contacts", "zoho_leads"])
def test_opt_outs_are_the_exported_ones_per_patient(generic_warehouse, generated_export, model):
    exported = _exported_patients(generated_export)
    rows = generic_warehouse.query(f"select Clinic_Patient_Id, Email_Opt_Out, SMS_Opt_Out from zoho.{model}")
    assert rows
    for patient_id, email_opt_out, sms_opt_out in rows:
        assert email_opt_out == _flag(exported[patient_id]["email_opt_out"]), patient_id
        assert sms_opt_out == _flag(exported[patient_id]["sms_opt_out"]), patient_id
    if model == "zoho_contacts":  # both answers occur, so the comparison is not vacuous
        assert {r[1] for r in rows} == {True, False} and {r[2] for r in rows} == {True, False}


def test_preferred_contact_method_goes_through_the_value_map(generic_warehouse, generated_export):
    exported = _exported_patients(generated_export)
    with open(DBT_PROJECT_DIR / "seeds" / "contact_method_map.csv", encoding="utf-8", newline="") as fh:
        value_map = {row["source_method"]: row["Preferred_Contact_Method"] for row in csv.DictReader(fh)}
    rows = generic_warehouse.query(
        "select Clinic_Patient_Id, Preferred_Contact_Method from zoho.zoho_contacts"
        " union all select Clinic_Patient_Id, Preferred_Contact_Method from zoho.zoho_leads")
    for patient_id, method in rows:
        source = exported[patient_id]["preferred_contact_method"].strip().lower()
        assert method == (value_map[source] if source else None), patient_id
    assert {m for _, m in rows} >= {"Email", "Phone", "SMS", "Mail", None}
    picklist = {r[0] for r in generic_warehouse.query(
        "select value from seeds.zoho_picklists where module = 'Contacts' and field = 'Preferred_Contact_Method'")}
    assert {m for _, m in rows if m} <= picklist
