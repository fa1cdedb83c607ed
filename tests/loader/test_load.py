"""Loading a small clinic into the local Zoho server over real HTTP: order, crosswalk, owners,
journal, rejects, attachments over the limit, and a rerun that sends nothing twice."""

from __future__ import annotations

from clinic2zoho.loader.journal import JournalReader

from tests.loader.conftest import assert_no_duplicates_and_all_accounted, load


def test_every_module_loads_with_lookups_and_owners_resolved(org, clinic):
    result = load(org, clinic)
    assert result.pending == 0
    done = assert_no_duplicates_and_all_accounted(org, clinic)
    assert done == {"Accounts": 2, "Contacts": 30, "Events": 18, "Insurance": 14, "Notes": 12, "Attachments": 5}

    accounts = {r["id"]: r["Clinic_Account_Id"] for r in org.records("Accounts", ["Clinic_Account_Id"])}
    contacts = org.records("Contacts", ["Clinic_Patient_Id", "Account_Name"])
    for c in contacts:  # the crosswalk turned the clinic key into the Account's Zoho id
        expected = "c1" if int(c["Clinic_Patient_Id"][1:]) % 2 == 0 else "c2"
        assert accounts[c["Account_Name"]["id"]] == expected
    patient_of = {r["id"]: r["Clinic_Patient_Id"] for r in contacts}
    users = {u["email"]: u["id"] for u in org.client().users()}
    loading_user = org.client().users(type="CurrentUser")[0]["id"]
    for e in org.records("Events", ["Clinic_Appointment_Id", "Who_Id", "Owner"]):
        i = int(e["Clinic_Appointment_Id"][1:])
        assert patient_of[e["Who_Id"]["id"]] == f"p{i % 30 + 1}"
        if i == 7:  # no provider: owned by the loading user, as docs/contracts.md says
            assert e["Owner"]["id"] == loading_user
        else:
            assert e["Owner"]["id"] == users["dr.adams@clinic.example" if i % 2 == 0 else "dr.baker@clinic.example"]


def test_journal_holds_every_row_and_rejects_carry_code_and_field(org, clinic):
    load(org, clinic)
    with JournalReader(clinic.journal) as q:
        rejects = q.sql("SELECT module, source_key, code, field FROM load_rejects ORDER BY module, source_key")
        assert rejects == [
            ("Attachments", "d6", "DOCUMENT_URL_MISSING", None),  # over the limit, and no address to link it by
            ("Events", "a3", "INVALID_DATA", "Start_DateTime"),  # a datetime without offset
            ("Events", "a5", "OWNER_UNRESOLVED", "Owner"),  # provider not a user of this org
            ("Insurance", "ins4", "LOOKUP_UNRESOLVED", "Contact"),  # points at a patient not loaded
        ]
        assert q.sql("SELECT count(*) FROM load_journal WHERE status = 'skipped'") == [(0,)]
        rows = q.dicts("SELECT * FROM load_journal WHERE module = 'Contacts' AND source_key = 'p1'")[0]
        assert rows["status"] == "done" and rows["operation"] == "insert" and rows["zoho_id"]
        assert rows["path"] == "record" and rows["batch_id"] and rows["created_at"] <= rows["updated_at"]
        audit = q.dicts("SELECT method, path, module, record_count, credits FROM audit_log"
                        " WHERE method = 'POST' AND path LIKE '%/Contacts/upsert'")
        assert audit and sum(a["record_count"] for a in audit) == 30 and sum(a["credits"] for a in audit) == 3


def test_a_rerun_of_a_finished_run_sends_no_write(org, clinic):
    load(org, clinic)
    before = org.data_hash()
    calls = []
    from clinic2zoho.loader.run import Loader
    from clinic2zoho.loader.source import TableSource
    from tests.loader.conftest import settings_for

    with org.client(on_call=calls.append) as client:
        Loader(clinic.plan, client, run_id="run1", root=clinic.journal, source=TableSource(clinic.warehouse),
               settings=settings_for(clinic)).run()
    # (an access token is fetched: the rerun reads its org, GET /org, to check it is the run's own)
    assert [c for c in calls if c.method in ("POST", "PUT", "DELETE") and not c.path.startswith("/oauth/")] == []
    assert org.data_hash() == before


def test_a_second_run_updates_with_before_images(org, clinic):
    load(org, clinic, run_id="run1")
    clinic.sql("UPDATE zoho.zoho_contacts SET First_Name = 'Changed' WHERE Clinic_Patient_Id = 'p7'")
    load(org, clinic, run_id="run2", modules=["Contacts"])
    with JournalReader(clinic.journal, runs=["run2"]) as q:
        ops = dict(q.sql("SELECT operation, count(*) FROM load_journal WHERE module = 'Contacts' GROUP BY 1"))
        image = q.sql("SELECT before_image FROM load_journal WHERE source_key = 'p7'")[0][0]
    assert ops == {"update": 30}
    assert '"First_Name": "Test"' in image
    assert {r["Clinic_Patient_Id"]: r["First_Name"] for r in org.records("Contacts", ["Clinic_Patient_Id", "First_Name"])}["p7"] == "Changed"


def test_validation_expects_the_loading_user_to_own_a_record_without_a_provider(org, clinic, tmp_path):
    from clinic2zoho.reports import validate_run
    from clinic2zoho.reports.compare import MATCH

    load(org, clinic)
    with org.client() as client:
        result = validate_run("run1", client, warehouse=clinic.warehouse, journal_root=clinic.journal,
                              reports_dir=tmp_path, spot_share=1.0, seed=1)
    owners = {c.key: c for c in result.spot_checks if c.module == "Events" and c.field == "Owner"}
    assert owners["a7"].status == MATCH, owners["a7"]  # the event with no provider
    assert all(c.status == MATCH for c in owners.values())
