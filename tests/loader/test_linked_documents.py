"""Documents over the attachment limit: attached in Zoho as a link to where the clinic keeps them,
titled with the file's name, journaled done with Zoho's id (a rerun sends nothing twice, a
rollback deletes the link), counted apart by the reconciliation and checked by validation; one
without a web address to link is a reject naming what to set."""

from __future__ import annotations

from dataclasses import replace

import pytest

from clinic2zoho.loader.journal import JournalReader
from clinic2zoho.loader.plan import LoadPlan
from clinic2zoho.loader.rollback import Rollback
from clinic2zoho.reports.field_check import check_records
from clinic2zoho.reports.reconciliation import module_counts
from clinic2zoho.reports.run_context import RunContext

from tests.loader.conftest import PLAN, load

MODULES = ["Accounts", "Contacts", "Attachments"]
BASE = "https://documents.clinic.example/export"


@pytest.fixture
def linking(clinic):
    """d6 (5,000 bytes, over the tests' 2,000-byte limit) renamed to a file name with spaces, and
    the model's url_column as dbt builds it: the document base URL + the path in the export."""
    (clinic.files / "doc-d6.txt").rename(clinic.files / "big scan d6.txt")
    clinic.sql(f"""ALTER TABLE zoho.zoho_attachments ADD COLUMN Attachment_URL VARCHAR;
        UPDATE zoho.zoho_attachments SET File_Path = 'big scan d6.txt', File_Name = 'd6_big scan d6.txt',
               Attachment_URL = '{BASE}/big scan d6.txt' WHERE Clinic_Document_Id = 'd6'""")
    clinic.plan = LoadPlan(tuple(replace(s, url_column="Attachment_URL") if s.module == "Attachments" else s
                                 for s in PLAN.specs))
    return clinic


def _links(org) -> list[dict]:
    snapshot = org.server.snapshot()["data"]["__attachments__"]
    return [a for a in snapshot.values() if a["link_url"]]


def _journal(clinic, key: str) -> tuple:
    with JournalReader(clinic.journal) as q:
        return q.sql("SELECT run_id, status, path, zoho_id FROM load_journal WHERE source_key = ?", [key])


def test_a_document_over_the_limit_is_linked_once_counted_checked_and_rolled_back(org, linking):
    load(org, linking, modules=MODULES)
    [link] = _links(org)
    contacts = {r["Clinic_Patient_Id"]: r["id"] for r in org.records("Contacts", ["Clinic_Patient_Id"])}
    assert link == {"module": "Contacts", "record_id": contacts["p3"], "File_Name": "d6_big scan d6.txt",
                    "Size": "0", "sha256": None, "link_url": f"{BASE}/big%20scan%20d6.txt"}
    attachment_id = next(k for k, a in org.server.snapshot()["data"]["__attachments__"].items() if a["link_url"])
    assert _journal(linking, "d6") == [("run1", "done", "link", attachment_id)]

    load(org, linking, modules=MODULES)  # the run again: nothing is sent twice
    load(org, linking, run_id="run2", modules=MODULES)  # nor by a new run
    assert len(_links(org)) == 1

    ctx = RunContext.open("run1", linking.warehouse, linking.journal)
    counts = {m.module: m for m in module_counts(ctx)}["Attachments"]
    assert (counts.loaded, counts.linked, counts.rejected, counts.skipped, counts.pending) == (6, 1, 0, 0, 0)
    spec = ctx.plan.spec("Attachments")
    with org.client() as client:
        checks = check_records(ctx, client, spec, ["d6"], ctx.expected_rows(spec))
    assert {(c.field, c.status) for c in checks} == {
        ("File_Name", "match"), ("Attachment_URL", "match"), ("Parent_Id", "match")}

    with org.client() as client:
        Rollback(client, "run1", linking.journal).run()
    assert _links(org) == []


def test_a_document_over_the_limit_without_a_web_address_is_a_reject_naming_the_setting(org, linking):
    linking.sql("UPDATE zoho.zoho_attachments SET Attachment_URL = 'file:///srv/export/big scan d6.txt'"
                " WHERE Clinic_Document_Id = 'd6'")
    load(org, linking, modules=MODULES)
    assert _links(org) == []
    with JournalReader(linking.journal) as q:
        [(code, field, message)] = q.sql("SELECT code, field, message FROM load_rejects WHERE source_key = 'd6'")
    assert (code, field) == ("DOCUMENT_URL_MISSING", "Attachment_URL")
    assert "document_url_base" in message and "big scan" not in message  # no file name (it may name a patient)
