"""The communication log from the export to the Zoho models: every phone call of communications.csv
becomes a Call at the same instant with the same duration, every other entry a Communication,
each on its patient's Contact or Lead; read from the CSV file itself, times converted with
zoneinfo, not with dbt. The generated data honours consent. (FHIR Communication resources:
test_fhir_communications.py.)"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.dbt.conftest import patient_modules

# the small generated warehouse is shared with the modules of this group
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_small_generic")]

CLINIC_ZONE = ZoneInfo("America/New_York")


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _seconds(mm_ss: str | None) -> int | None:
    if mm_ss is None:
        return None
    minutes, seconds = mm_ss.split(":")
    return int(minutes) * 60 + int(seconds)


@pytest.fixture(scope="module")
def small_export(small_generic_warehouse):
    return small_generic_warehouse.generated


@pytest.fixture(scope="module")
def warehouse(small_generic_warehouse):
    assert small_generic_warehouse.result.success, small_generic_warehouse.result
    return small_generic_warehouse


@pytest.fixture(scope="module")
def exported(small_export):
    return _csv(small_export.export_dir / "communications.csv")


def test_every_phone_call_is_a_call_at_its_original_instant_with_its_duration(warehouse, exported):
    calls = {r[0]: r[1:] for r in warehouse.query(
        "select Clinic_Communication_Id, Call_Start_Time, Call_Duration, Call_Type, Call_Result, Who_Id, "
        "Parent_Module from zoho.zoho_calls")}
    module_of = patient_modules(warehouse)
    phone = [row for row in exported if row["channel"] == "phone"]
    assert phone and {r["direction"] for r in phone} == {"inbound", "outbound"}
    assert set(calls) == {r["communication_id"] for r in phone}
    for row in phone:
        start, duration, call_type, result, who, parent = calls[row["communication_id"]]
        local = datetime.strptime(row["started_at"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CLINIC_ZONE)
        assert datetime.fromisoformat(start) == local, row["communication_id"]
        assert start.endswith(local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:])
        assert _seconds(duration) == int(row["duration_seconds"]), row["communication_id"]
        missed = row["direction"] == "inbound" and row["outcome"] in ("no_answer", "voicemail")
        assert call_type == ("Missed" if missed else row["direction"].capitalize())
        assert result == {"answered": "Answered", "no_answer": "No Answer", "voicemail": "Voicemail"}[row["outcome"]]
        assert who == row["patient_id"] and parent == module_of[who], row["communication_id"]
    assert {"Contacts", "Leads"} <= {c[5] for c in calls.values()}  # prospects call in too


def test_every_other_entry_is_a_communication_on_its_patient(warehouse, exported):
    rows = {r[0]: r[1:] for r in warehouse.query(
        "select Clinic_Communication_Id, Channel, Direction, Sent_At, Body, Outcome, Contact, Lead, Owner "
        "from zoho.zoho_communications")}
    emails = {r[0]: r[1] for r in warehouse.query("select provider_id, Email from zoho.zoho_users_resolution")}
    module_of = patient_modules(warehouse)
    others = [row for row in exported if row["channel"] != "phone"]
    assert set(rows) == {r["communication_id"] for r in others}
    labels = {"email": "Email", "sms": "SMS", "letter": "Letter", "portal": "Portal"}
    for row in others:
        channel, direction, sent_at, body, outcome, contact, lead, owner = rows[row["communication_id"]]
        local = datetime.strptime(row["started_at"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CLINIC_ZONE)
        assert (channel, direction, body) == (labels[row["channel"]], row["direction"].capitalize(), row["body"])
        assert datetime.fromisoformat(sent_at) == local
        assert outcome.lower().replace(" ", "_") == row["outcome"]
        parent = module_of[row["patient_id"]]
        assert (contact, lead) == ((row["patient_id"], None) if parent == "Contacts" else (None, row["patient_id"]))
        assert owner == (emails.get(row["provider_id"]) if row["provider_id"] else None)
    assert {r[0] for r in rows.values()} == set(labels.values())


def test_the_generated_log_invents_nothing_against_an_opt_out(small_export, exported):
    patients = {r["patient_id"]: r for r in _csv(small_export.export_dir / "patients.csv")}
    by_channel = {"sms": "sms_opt_out", "email": "email_opt_out"}
    checked = 0
    for row in exported:
        if row["channel"] in by_channel:
            patient = patients[row["patient_id"]]
            assert patient[by_channel[row["channel"]]] == "false", row["communication_id"]
            assert patient["phone" if row["channel"] == "sms" else "email"], row["communication_id"]
            checked += 1
    # the opt-outs exist, so the absence above is not vacuous
    assert checked and any(p["sms_opt_out"] == "true" for p in patients.values())
    assert any(p["email_opt_out"] == "true" for p in patients.values())


def test_row_conservation_counts_the_log(warehouse, exported):
    staged, mapped, excluded = warehouse.query(
        "select staged_rows, mapped_rows, excluded_rows from audit.row_conservation "
        "where staging_model = 'stg_generic__communications'")[0]
    assert staged == len(exported) == mapped + excluded
