"""The patient's primary provider owns the patient's Contact or Lead: for each patient of the
export's patients.csv (read from the file itself), the Owner of the Contact or Lead is the e-mail
of its primary_provider_id as providers.csv and the clinic's overrides CSV give it (the override
wins, compared lower-cased), empty when the patient has none; the dbt gate (resolves_to_zoho_user)
passes, so the org accepts every owner."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

# the small generated warehouse is shared with the modules of this group
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_small_generic")]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def built(small_generic_warehouse):
    """The clinic decided the planted duplicates (merged): one person each."""
    return small_generic_warehouse.generated, small_generic_warehouse


def test_each_patients_contact_or_lead_is_owned_by_its_primary_provider(built):
    generated, warehouse = built
    assert warehouse.result.success, [(e.name, e.message, e.rows[:3]) for e in warehouse.result.errors]
    export = generated.export_dir
    emails = {r["provider_id"]: r["email"].strip().lower() for r in _rows(export / "providers.csv")}
    emails.update({r["provider_id"]: r["email"].strip().lower() for r in _rows(generated.overrides_path)})
    owners = dict(warehouse.query("select Clinic_Patient_Id, Owner from zoho.zoho_contacts"
                                  " union all select Clinic_Patient_Id, Owner from zoho.zoho_leads"))
    checked = with_owner = overridden = 0
    overrides = {r["provider_id"] for r in _rows(generated.overrides_path)}
    for patient in _rows(export / "patients.csv"):
        if patient["patient_id"] not in owners:  # a merged duplicate: not in Zoho
            continue
        provider = patient["primary_provider_id"].strip()
        expected = (emails.get(provider) or None) if provider else None
        assert owners[patient["patient_id"]] == expected, patient["patient_id"]
        checked += 1
        with_owner += expected is not None
        overridden += provider in overrides
    # not vacuous: most patients have one, some through the clinic's override, some none
    assert checked > 500 and with_owner > checked / 2 and overridden > 0 and with_owner < checked


def test_every_owner_is_a_user_of_the_org_and_counted_as_owning(built):
    _, warehouse = built
    unmatched = warehouse.query(
        "select count(*) from (select Owner from zoho.zoho_contacts union all select Owner from zoho.zoho_leads) o"
        " where Owner is not null and Owner not in (select Email from zoho.zoho_users_resolution"
        " where Resolution_Status = 'matched')")
    assert unmatched == [(0,)]
    owning = dict(warehouse.query("select provider_id, Owned_Records from zoho.zoho_users_resolution"))
    patients = dict(warehouse.query(
        "select primary_provider_id, count(*) from intermediate.int_patients where exclusion_rule is null"
        " and primary_provider_id is not null group by 1"))
    assert patients and all(owning[p] >= n for p, n in patients.items())
