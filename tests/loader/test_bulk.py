"""The bulk path: the choice by credits, a job id journaled before polling, per-row results,
a FAILED job retried, and the break-even choice on a batch large enough."""

from __future__ import annotations

from clinic2zoho.loader.journal import JournalReader

from tests.loader.conftest import assert_no_duplicates_and_all_accounted, build_clinic, load


def test_bulk_jobs_load_rows_and_journal_their_job_ids(org, clinic):
    clinic.sql("UPDATE zoho.zoho_contacts SET Last_Name = NULL WHERE Clinic_Patient_Id = 'p9'")  # mandatory
    load(org, clinic, force_path="bulk")
    done = assert_no_duplicates_and_all_accounted(org, clinic)
    assert done["Contacts"] == 29
    with JournalReader(clinic.journal) as q:
        paths = dict(q.sql("SELECT module, string_agg(DISTINCT path) FROM load_journal WHERE status = 'done' GROUP BY 1"))
        assert paths["Contacts"] == "bulk" and paths["Accounts"] == "bulk"
        assert paths["Events"] == "record" and paths["Notes"] == "record"  # Zoho's Bulk Write refuses them
        jobs = q.sql("SELECT module, job_id, status, rows FROM bulk_jobs ORDER BY module")
        assert [(m, s, n) for m, _, s, n in jobs] == [("Accounts", "applied", 2), ("Contacts", "applied", 30),
                                                      ("Insurance", "applied", 13)]  # ins4 and ins9 lack their Contact
        contacts_job = [j for m, j, _, _ in jobs if m == "Contacts"][0]
        assert q.sql("SELECT count(*) FROM load_journal WHERE module = 'Contacts' AND job_id = ?", [contacts_job]) == [(30,)]
        assert q.sql("SELECT code, field FROM load_rejects WHERE source_key = 'p9'") == [("MANDATORY_NOT_FOUND", "Last_Name")]


def test_a_failed_bulk_job_is_retried_until_every_row_lands(org, clinic):
    org.server.settings(faults={"bulk_fail_rate": 0.5, "seed": 3})
    load(org, clinic, force_path="bulk", modules=["Accounts", "Contacts"])
    org.server.settings(faults={"bulk_fail_rate": 0.0})
    with JournalReader(clinic.journal) as q:
        assert q.sql("SELECT count(*) FROM load_journal WHERE module = 'Contacts' AND status = 'done'") == [(30,)]
        statuses = [s for (s,) in q.sql("SELECT status FROM bulk_jobs")]
    assert "FAILED" in statuses  # the seed makes at least one job fail
    ext = [r["Clinic_Patient_Id"] for r in org.records("Contacts", ["Clinic_Patient_Id"])]
    assert sorted(ext) == sorted(set(ext)) and len(ext) == 30


def test_above_the_break_even_the_loader_chooses_bulk_by_itself(org, clinic):
    build_clinic(clinic.warehouse, clinic.files, patients=5_200, appointments=0, notes=0, documents=1)
    load(org, clinic, modules=["Accounts", "Contacts"])
    with JournalReader(clinic.journal) as q:
        assert dict(q.sql("SELECT module, string_agg(DISTINCT path) FROM load_journal GROUP BY 1")) == {
            "Accounts": "record", "Contacts": "bulk"}
        credits = dict(q.sql("SELECT module, sum(credits) FROM audit_log GROUP BY 1"))
    assert credits["Contacts"] < 520  # one job (500) plus a few calls, against 520 by record calls
    assert len(org.records("Contacts", ["Clinic_Patient_Id"])) == 5_200
