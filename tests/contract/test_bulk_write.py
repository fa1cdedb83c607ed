"""Bulk Write as the loader drives it: upload a zip, create a job, poll it, read the result zip.
Sources: Zoho's Bulk Write pages (https://www.zoho.com/crm/developer/docs/api/v8/bulk-write/upload-file.html,
create-job.html, get-job-details.html, limitations.html) and bulk_write.json, which validates
every JSON answer."""

from __future__ import annotations

import csv
import io
import time
import zipfile

import pytest

ORDER = ["ADDED", "IN PROGRESS", "COMPLETED"]


def zip_of(text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("contacts.csv", text)
    return buf.getvalue()


@pytest.fixture(scope="module")
def zgid(zoho) -> str:
    return zoho.get("/crm/v8/org", oas=None).json()["org"][0]["zgid"]


def wait_states(zoho, job_id: str) -> tuple[list[str], dict]:
    """Poll the job (first after 50 ms, doubling to 5 s: quick on a local org, gentle on a real one)
    until it ends; the distinct states seen in order and the last answer."""
    states: list[str] = []
    pause, deadline = 0.05, time.monotonic() + 600
    while True:
        details = zoho.get(f"/crm/bulk/v8/write/{job_id}", oas="bulk_write.json", template="/crm/bulk/v8/write/{job_id}").json()
        if not states or states[-1] != details["status"]:
            states.append(details["status"])
        if details["status"] in ("COMPLETED", "FAILED") or time.monotonic() > deadline:
            return states, details
        time.sleep(pause)
        pause = min(pause * 2, 5.0)


def upload_zip(upload, zgid: str, data: bytes, name: str = "contacts.zip"):
    return upload.post("/crm/v8/upload", files={"file": (name, data, "application/zip")},
                       headers={"feature": "bulk-write", "X-CRM-ORG": zgid}, oas="bulk_write.json", template="/crm/v8/upload")


def test_a_job_goes_added_in_progress_completed_and_its_result_zip_has_status_record_id_errors(
        zoho, upload, zgid, ledger, run_id):
    """Upload: 200 FILE_UPLOAD_SUCCESS with details.file_id. Create job: 201 `{status: success,
    code: SUCCESS, details.id}`. Job details: status ADDED, then IN PROGRESS (with a space), then
    COMPLETED, never back; per resource file.{added_count, total_count}; result.download_url to
    a zip whose CSV repeats the first (up to three) mapped columns and adds STATUS, RECORD_ID, ERRORS (a row Zoho
    refuses says why: MANDATORY_NOT_FOUND for a missing Last_Name)."""
    rows = [f"Bulk {run_id} {i},bulk{i}.{run_id}@contract.example" for i in range(3)] + [f",nolast.{run_id}@contract.example"]
    up = upload_zip(upload, zgid, zip_of("Last_Name,Email\n" + "\n".join(rows) + "\n"))
    assert up.status_code == 200 and up.json()["code"] == "FILE_UPLOAD_SUCCESS"
    file_id = up.json()["details"]["file_id"]
    job = zoho.post("/crm/bulk/v8/write", oas="bulk_write.json", template="/crm/bulk/v8/write", json={
        "operation": "insert", "ignore_empty": True, "resource": [{
            "type": "data", "module": {"api_name": "Contacts"}, "file_id": file_id,
            "field_mappings": [{"api_name": "Last_Name", "index": 0}, {"api_name": "Email", "index": 1}]}]})
    assert job.status_code == 201
    assert (job.json()["status"], job.json()["code"]) == ("success", "SUCCESS")
    job_id = str(job.json()["details"]["id"])
    ledger.jobs.append(job_id)
    states, details = wait_states(zoho, job_id)
    assert states[-1] == "COMPLETED"
    assert states == [s for s in ORDER if s in states], states  # in order, none repeated after moving on
    counts = details["resource"][0]["file"]
    assert (counts["added_count"], counts["total_count"]) == (3, 4)
    result = zoho.http.get(details["result"]["download_url"])
    assert result.status_code == 200
    with zipfile.ZipFile(io.BytesIO(result.content)) as zf:
        (name,) = zf.namelist()
        table = list(csv.DictReader(io.StringIO(zf.read(name).decode("utf-8-sig"))))
    for row in table:
        if row["STATUS"].lower() == "added" and row["RECORD_ID"]:
            ledger.records.append(("Contacts", row["RECORD_ID"]))
    assert list(table[0])[:2] == ["Last_Name", "Email"] and {"STATUS", "RECORD_ID", "ERRORS"} <= set(table[0])
    # the page names the values added/skipped/updated/unprocessed; its sample (an image) does not
    # settle their case, and the client reads them case-blind
    assert [r["STATUS"].lower() for r in table] == ["added"] * 3 + ["skipped"]
    assert all(r["RECORD_ID"] for r in table[:3]) and not table[3]["RECORD_ID"]
    assert "MANDATORY_NOT_FOUND" in table[3]["ERRORS"] and "Last_Name" in table[3]["ERRORS"]


def test_upload_refuses_a_file_that_is_not_a_zip(upload, zgid):
    """Upload page: only a zip is taken (INVALID_FILE_FORMAT "invalid file format. only zip format
    is supported")."""
    resp = upload.post("/crm/v8/upload", files={"file": ("c.csv", b"Last_Name\nA\n", "text/csv")},
                       headers={"feature": "bulk-write", "X-CRM-ORG": zgid}, oas="bulk_write.json", template="/crm/v8/upload")
    assert resp.status_code == 400 and resp.json()["code"] == "INVALID_FILE_FORMAT"


def test_bulk_write_refuses_notes(zoho, upload, zgid):
    """Limitations page: Notes (and Events, Calls) cannot be bulk-written; the loader sends them
    through the record API."""
    file_id = upload_zip(upload, zgid, zip_of("Note_Title\nx\n")).json()["details"]["file_id"]
    resp = zoho.post("/crm/bulk/v8/write", oas="bulk_write.json", template="/crm/bulk/v8/write", json={
        "operation": "insert", "resource": [{"type": "data", "module": {"api_name": "Notes"}, "file_id": file_id,
                                             "field_mappings": [{"api_name": "Note_Title", "index": 0}]}]})
    assert resp.status_code == 400 and resp.json()["status"] == "error"


def test_ignore_empty_on_the_resource_keeps_what_an_empty_cell_would_blank(zoho, upload, zgid, run_id):
    """Create Bulk Write Job (bulk_write.json Resource.ignore_empty, as the official SDK sends it;
    the request-level flag is the same): with ignore_empty true an empty cell of an update leaves
    the record's value as it was."""
    made = zoho.post("/crm/v8/Contacts", json={"data": [{"Last_Name": f"Keep {run_id}", "Phone": "555-0101"}]},
                     oas="record.json", template="/crm/v8/{module_api_name}")
    rid = made.json()["data"][0]["details"]["id"]
    file_id = upload_zip(upload, zgid, zip_of(f"id,Last_Name,Phone\n{rid},Kept {run_id},\n")).json()["details"]["file_id"]
    job = zoho.post("/crm/bulk/v8/write", oas="bulk_write.json", template="/crm/bulk/v8/write", json={
        "operation": "update", "resource": [{
            "type": "data", "module": {"api_name": "Contacts"}, "file_id": file_id, "find_by": "id", "ignore_empty": True,
            "field_mappings": [{"api_name": "id", "index": 0}, {"api_name": "Last_Name", "index": 1},
                               {"api_name": "Phone", "index": 2}]}]})
    assert job.status_code == 201
    job_id = str(job.json()["details"]["id"])
    states, _ = wait_states(zoho, job_id)
    assert states[-1] == "COMPLETED"
    got = zoho.get(f"/crm/v8/Contacts/{rid}", oas="record.json", template="/crm/v8/{module_api_name}/{id}").json()["data"][0]
    assert (got["Last_Name"], got["Phone"]) == (f"Kept {run_id}", "555-0101")
