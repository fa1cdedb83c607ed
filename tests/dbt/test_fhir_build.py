"""The mapping on the shared FHIR Bulk export (with the Communication resources planted beside its
patients, `fhir_export`): DocumentReference notes become Zoho notes."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_fhir")]


def test_dbt_build_is_green_on_fhir(fhir_warehouse):
    assert fhir_warehouse.result.success, fhir_warehouse.result.summary()


def test_document_references_become_plain_text_notes_on_their_contact(fhir_warehouse, fhir_dir):
    wh = fhir_warehouse
    assert wh.scalar("select count(distinct Source_Note_Id) from zoho.zoho_notes") == 1215
    assert wh.scalar("select count(*) from zoho.zoho_notes where Parent_Module <> 'Contacts'") == 0
    first = json.loads((fhir_dir / "DocumentReference.000.ndjson").read_text(encoding="utf-8").splitlines()[0])
    text = base64.b64decode(first["content"][0]["attachment"]["data"]).decode("utf-8").strip()
    title, content, parent = wh.query(
        f"select Note_Title, Note_Content, Parent_Id from zoho.zoho_notes where Source_Note_Id = '{first['id']}'"
    )[0]
    assert content == text
    assert parent == first["subject"]["reference"].removeprefix("Patient/")
    # original date (in the clinic's zone, America/Chicago here) and the source id travel in the title
    local_date = datetime.fromisoformat(first["date"]).astimezone(ZoneInfo("America/Chicago")).date().isoformat()
    assert title.startswith(local_date) and f"[n:{first['id']}] (1/1)" in title


def test_fhir_encounters_are_events_owned_by_their_practitioner(fhir_warehouse):
    wh = fhir_warehouse
    assert wh.scalar("select count(*) from zoho.zoho_events") == 1215
    assert wh.scalar("select count(*) from zoho.zoho_events where Owner is null") == 0
    offsets = {row[0] for row in wh.query("select distinct right(Start_DateTime, 6) from zoho.zoho_events")}
    assert offsets <= {"-06:00", "-05:00"}
    assert wh.scalar("select sum(unaccounted_rows) from audit.row_conservation") == 0
