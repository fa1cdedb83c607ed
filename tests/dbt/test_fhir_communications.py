"""FHIR Communication resources planted beside the shared FHIR sample's patients (the shared
`fhir_export`, tests/fixtures/warehouses.py) arrive as Zoho Calls and Communications at their
original instants, on their patient's Contact or Lead, owned by their practitioner; read from the
planted resources themselves, times converted with zoneinfo, not with dbt."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.dbt.conftest import patient_modules

# the FHIR warehouse is built once for the modules of this group
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_fhir")]


@pytest.fixture(scope="module")
def fhir_with_communications(fhir_warehouse, fhir_export: Path):
    assert fhir_warehouse.result.success, fhir_warehouse.result
    planted = [json.loads(line) for line in (fhir_export / "Communication.000.ndjson").read_text().splitlines()]
    practitioner = json.loads((fhir_export / "Practitioner.000.ndjson").read_text().splitlines()[0])
    return fhir_warehouse, planted, practitioner


def test_fhir_communications_arrive_as_calls_and_communications(fhir_with_communications):
    warehouse, planted, practitioner = fhir_with_communications
    zone = ZoneInfo("America/Chicago")
    module_of = patient_modules(warehouse)
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
