"""The communication log from the export to the Zoho models: every phone call of communications.csv
becomes a Call at the same instant with the same duration, every other entry a Communication,
each on its patient's Contact or Lead; read from the CSV file itself, times converted with
zoneinfo, not with dbt. The generated data honours consent. FHIR Communication resources planted
beside the shared FHIR sample's patients arrive the same way."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import SHARED_DATA
from tests.dbt.conftest import DEMO, build_warehouse

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


def _module_of(warehouse) -> dict[str, str]:
    module = {r[0]: "Contacts" for r in warehouse.query("select Clinic_Patient_Id from zoho.zoho_contacts")}
    module.update({r[0]: "Leads" for r in warehouse.query("select Clinic_Patient_Id from zoho.zoho_leads")})
    return module


def test_every_phone_call_is_a_call_at_its_original_instant_with_its_duration(warehouse, exported):
    calls = {r[0]: r[1:] for r in warehouse.query(
        "select Clinic_Communication_Id, Call_Start_Time, Call_Duration, Call_Type, Call_Result, Who_Id, "
        "Parent_Module from zoho.zoho_calls")}
    module_of = _module_of(warehouse)
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
    module_of = _module_of(warehouse)
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


# --- FHIR: Communication resources planted beside the shared sample's patients -------------------

def _planted(patients: list[str], practitioner: dict) -> list[dict]:
    npi = practitioner["identifier"][0]["value"]
    return [
        {"resourceType": "Communication", "id": "com-call-1", "status": "completed",
         "subject": {"reference": f"Patient/{patients[0]}"},
         "medium": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode",
                                 "code": "PHONE", "display": "telephone"}]}],
         "sent": "2024-03-14T14:30:00Z", "sender": {"reference": f"Practitioner/{practitioner['id']}"},
         "recipient": [{"reference": f"Patient/{patients[0]}"}], "topic": {"text": "Lab results call"},
         "payload": [{"contentString": "Called to go over the lab results."}]},
        {"resourceType": "Communication", "id": "com-email-1", "status": "completed",
         "subject": {"reference": f"Patient/{patients[1]}"},
         "medium": [{"coding": [{"code": "EMAILWRIT", "display": "email"}]}],
         "sent": "2023-12-01T08:05:00-05:00", "sender": {"reference": f"Patient/{patients[1]}"},
         "recipient": [{"reference": f"Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|{npi}"}],
         "category": [{"text": "Question"}], "payload": [{"contentString": "Can I move my visit?"}]},
        {"resourceType": "Communication", "id": "com-sms-1", "status": "not-done",
         "subject": {"reference": f"Patient/{patients[2]}"}, "medium": [{"text": "SMS"}],
         "sent": "2024-07-04T16:00:00+00:00", "payload": [{"contentString": "Your flu shot is due."}]},
        {"resourceType": "Communication", "id": "com-nobody", "status": "completed",
         "subject": {"reference": "Patient/not-in-the-export"}, "medium": [{"text": "SMS"}],
         "sent": "2024-07-04T16:00:00Z"},
    ]


@pytest.fixture(scope="module")
def fhir_with_communications(tmp_path_factory):
    source = SHARED_DATA / "fhir_bulk_ndjson_10"
    export = tmp_path_factory.mktemp("fhir_export") / "export"
    shutil.copytree(source, export)
    for path in export.iterdir():
        path.chmod(0o644)
    patients = [json.loads(line)["id"] for line in (export / "Patient.000.ndjson").read_text().splitlines()[:3]]
    practitioner = json.loads((export / "Practitioner.000.ndjson").read_text().splitlines()[0])
    planted = _planted(patients, practitioner)
    (export / "Communication.000.ndjson").write_text("\n".join(json.dumps(r) for r in planted) + "\n")
    demo = DEMO / "fhir_bulk_ndjson_10"
    built = build_warehouse(
        tmp_path_factory.mktemp("fhir"), export, "fhir", demo / "zoho_users.json",
        {"provider_email_overrides_file": str(demo / "provider_email_overrides.csv"),
         "clinic_timezone": "America/Chicago"})
    assert built.result.success, built.result
    return built, planted, practitioner


def test_fhir_communications_arrive_as_calls_and_communications(fhir_with_communications):
    warehouse, planted, practitioner = fhir_with_communications
    zone = ZoneInfo("America/Chicago")
    module_of = _module_of(warehouse)
    owner = warehouse.scalar(
        f"select Email from zoho.zoho_users_resolution where provider_id = '{practitioner['id']}'")
    assert owner  # the planted practitioner is a user of the org, so Owner is compared with a value
    call, email, sms = planted[:3]

    rows = warehouse.query("select Clinic_Communication_Id, Call_Start_Time, Call_Type, Call_Result, Subject, "
                           "Description, Who_Id, Parent_Module, Owner, Call_Duration from zoho.zoho_calls")
    assert rows == [("com-call-1", datetime.fromisoformat(call["sent"]).astimezone(zone).isoformat(), "Outbound",
                     "Answered", "Lab results call", "Called to go over the lab results.",
                     call["subject"]["reference"].split("/")[1], module_of[call["subject"]["reference"].split("/")[1]],
                     owner, None)]

    rows = {r[0]: r[1:] for r in warehouse.query(
        "select Clinic_Communication_Id, Channel, Direction, Sent_At, Subject, Body, Outcome, "
        "coalesce(Contact, Lead), Owner from zoho.zoho_communications")}
    assert set(rows) == {"com-email-1", "com-sms-1"}
    for resource, channel, direction, outcome, by in ((email, "Email", "Inbound", "Delivered", owner),
                                                      (sms, "SMS", "Outbound", "Bounced", None)):
        got = rows[resource["id"]]
        assert got[:3] == (channel, direction, datetime.fromisoformat(resource["sent"]).astimezone(zone).isoformat())
        assert got[4:] == (resource["payload"][0]["contentString"], outcome,
                           resource["subject"]["reference"].split("/")[1], by)
    assert rows["com-email-1"][3] == "Question"
    # the one for a patient the export lacks is excluded by a named rule, not lost
    assert warehouse.query("select exclusion_rule from intermediate.int_communications "
                           "where communication_id = 'com-nobody'") == [("unknown_patient",)]
