"""Bulk Write over real HTTP: upload rules, job creation, asynchronous states, result zip."""

from __future__ import annotations

import csv
import io
import time
import zipfile

import pytest

from tests.zoho_server.conftest import add_external_field, api_client, zip_csv

pytestmark = pytest.mark.xdist_group("zoho_bulk")


def upload(api, server, content: bytes, name="data.zip", headers=None):
    hdr = {"feature": "bulk-write", "X-CRM-ORG": server.zgid} if headers is None else headers
    return api.post("/crm/v8/upload", files={"file": (name, content, "application/zip")}, headers=hdr)


def create_job(api, file_id, module="Contacts", operation="insert", mappings=None, find_by=None):
    res = {"type": "data", "module": {"api_name": module}, "file_id": file_id}
    if mappings is not None:
        res["field_mappings"] = mappings
    if find_by:
        res["find_by"] = find_by
    return api.post("/crm/bulk/v8/write", json={"operation": operation, "ignore_empty": True, "resource": [res]})


def wait(api, job_id, timeout=30.0):
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(f"/crm/bulk/v8/write/{job_id}").json()
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        if body["status"] in ("COMPLETED", "FAILED"):
            return body, seen
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {seen[-1]}")


def result_rows(api, url):
    resp = api.get(url)
    assert resp.status_code == 200
    with zipfile.ZipFile(io.BytesIO(resp.content)) as zf:
        (name,) = zf.namelist()
        return list(csv.DictReader(io.StringIO(zf.read(name).decode())))


def test_upload_refuses_non_zip_missing_headers_and_limits(zoho_server):
    zoho_server.settings(bulk_max_rows=3, bulk_max_columns=2)
    with api_client(zoho_server) as api:
        assert upload(api, zoho_server, b"Last_Name\nA\n").json()["code"] == "INVALID_FILE_FORMAT"
        assert upload(api, zoho_server, zip_csv("Last_Name\nA\n"), headers={"X-CRM-ORG": zoho_server.zgid}).status_code == 400
        assert upload(api, zoho_server, zip_csv("Last_Name\nA\n"), headers={"feature": "bulk-write", "X-CRM-ORG": "1"}).status_code == 400
        wrong_org = {"feature": "bulk-write", "X-CRM-ORG": zoho_server.org_id}  # the org id is not the zgid
        assert upload(api, zoho_server, zip_csv("Last_Name\nA\n"), headers=wrong_org).status_code == 400
        two = io.BytesIO()
        with zipfile.ZipFile(two, "w") as zf:
            zf.writestr("a.csv", "Last_Name\nA\n")
            zf.writestr("b.csv", "Last_Name\nB\n")
        assert upload(api, zoho_server, two.getvalue()).json()["code"] == "INVALID_FILE_FORMAT"
        assert upload(api, zoho_server, zip_csv("Last_Name\nA\nB\nC\nD\n")).json()["code"] == "LIMIT_EXCEEDED"
        assert upload(api, zoho_server, zip_csv("A,B,C\n1,2,3\n")).json()["code"] == "LIMIT_EXCEEDED"
        ok = upload(api, zoho_server, zip_csv("Last_Name\nA\nB\nC\n"))
        assert ok.status_code == 200 and ok.json()["code"] == "FILE_UPLOAD_SUCCESS"
        zoho_server.settings(bulk_max_bytes=100)
        big = upload(api, zoho_server, zip_csv("Last_Name\n" + "x" * 5000 + "\n", name="big.csv") + b"\0" * 200)
        assert big.status_code == 413


def test_insert_job_goes_added_in_progress_completed_with_a_result_file(zoho_server):
    zoho_server.settings(bulk_start_delay=0.3, bulk_chunk_rows=500)
    with api_client(zoho_server) as api:
        acc = api.post("/crm/v8/Accounts", json={"data": [{"Account_Name": "Bulk Clinic"}]}).json()["data"][0]["details"]["id"]
        rows = ["Last_Name,Email,Account_Name"] + [f"P{i},p{i}@bulk.example,{acc}" for i in range(2000)]
        rows += [",nolast@bulk.example,", "Dup,p1@bulk.example,", "Bad,bad-email,", "Ghost,g@bulk.example,5725767999999999999"]
        file_id = upload(api, zoho_server, zip_csv("\n".join(rows) + "\n")).json()["details"]["file_id"]
        mappings = [{"api_name": "Last_Name", "index": 0}, {"api_name": "Email", "index": 1},
                    {"api_name": "Account_Name", "index": 2, "find_by": "id"}]
        job = create_job(api, file_id, mappings=mappings)
        assert job.status_code == 201 and job.json()["code"] == "SUCCESS"
        body, seen = wait(api, job.json()["details"]["id"])
        assert seen[0] == "ADDED" and seen[-1] == "COMPLETED"
        counts = body["resource"][0]["file"]
        assert (counts["added_count"], counts["skipped_count"], counts["total_count"]) == (2000, 4, 2004)
        result = result_rows(api, body["result"]["download_url"])
        assert list(result[0]) == ["Last_Name", "Email", "Account_Name", "STATUS", "RECORD_ID", "ERRORS"]
        assert result[0]["STATUS"] == "ADDED" and result[0]["RECORD_ID"].isdigit()
        assert [r["ERRORS"] for r in result[-4:]] == ["MANDATORY_NOT_FOUND-Last_Name", "DUPLICATE_DATA-Email",
                                                       "INVALID_DATA-Email", "INVALID_DATA-Account_Name"]
        got = api.get(f"/crm/v8/Contacts/{result[5]['RECORD_ID']}").json()["data"][0]
        assert got["Last_Name"] == "P5" and got["Account_Name"]["id"] == acc


def test_upsert_job_by_external_id_and_lookup_by_external_id(zoho_server):
    with api_client(zoho_server) as api:
        add_external_field(api, "Contacts", "Clinic Patient Id")
        add_external_field(api, "Accounts", "Clinic Account Id")
        api.post("/crm/v8/Accounts", json={"data": [{"Account_Name": "Main", "Clinic_Account_Id": "A1"}]})
        api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "Old", "Clinic_Patient_Id": "P1"}]})
        csv_text = "Clinic_Patient_Id,Last_Name,Account\nP1,New,A1\nP2,Second,A1\nP3,Third,A9\n"
        file_id = upload(api, zoho_server, zip_csv(csv_text)).json()["details"]["file_id"]
        mappings = [{"api_name": "Clinic_Patient_Id", "index": 0}, {"api_name": "Last_Name", "index": 1},
                    {"api_name": "Account_Name", "index": 2, "find_by": "Clinic_Account_Id"}]
        job = create_job(api, file_id, operation="upsert", mappings=mappings, find_by="Clinic_Patient_Id")
        body, _ = wait(api, job.json()["details"]["id"])
        result = result_rows(api, body["result"]["download_url"])
        assert [r["STATUS"] for r in result] == ["UPDATED", "ADDED", "SKIPPED"]
        assert result[2]["ERRORS"] == "INVALID_DATA-Account"
        hdr = {"X-EXTERNAL": "Contacts.Clinic_Patient_Id"}
        assert api.get("/crm/v8/Contacts/P1", headers=hdr).json()["data"][0]["Last_Name"] == "New"
        update_missing = create_job(api, file_id, operation="update", mappings=mappings, find_by="Clinic_Patient_Id")
        body, _ = wait(api, update_missing.json()["details"]["id"])
        statuses = [r["STATUS"] for r in result_rows(api, body["result"]["download_url"])]
        assert statuses == ["UPDATED", "UPDATED", "SKIPPED"]


def test_job_creation_is_refused_for_notes_events_calls_and_bad_specs(zoho_server):
    with api_client(zoho_server) as api:
        file_id = upload(api, zoho_server, zip_csv("Note_Content\nhello\n")).json()["details"]["file_id"]
        for module in ("Notes", "Events", "Calls"):
            resp = create_job(api, file_id, module=module)
            assert resp.status_code == 400 and resp.json()["code"] == "MODULE_NOT_AVAILABLE"
        assert create_job(api, "5725767999999999999").json()["code"] == "INVALID_FILE_ID"
        assert create_job(api, file_id, operation="merge").status_code == 400
        assert create_job(api, file_id, operation="upsert", find_by="Last_Name").status_code == 400
        assert create_job(api, file_id, mappings=[{"api_name": "Nope", "index": 0}]).json()["code"] == "INVALID_FIELD"
        assert create_job(api, file_id, mappings=[{"api_name": "Last_Name", "index": 7}]).json()["code"] == "COLUMN_INDEX_NOT_FOUND"


def test_injected_faults_fail_jobs_and_rows(zoho_server):
    with api_client(zoho_server) as api:
        file_id = upload(api, zoho_server, zip_csv("Last_Name\n" + "\n".join(f"R{i}" for i in range(50)) + "\n")).json()["details"]["file_id"]
        zoho_server.settings(faults={"bulk_fail_rate": 1.0, "seed": 1})
        body, seen = wait(api, create_job(api, file_id).json()["details"]["id"])
        assert body["status"] == "FAILED" and "result" not in body
        zoho_server.settings(faults={"bulk_fail_rate": 0.0, "row_fail_rate": 0.3, "seed": 7})
        body, _ = wait(api, create_job(api, file_id).json()["details"]["id"])
        result = result_rows(api, body["result"]["download_url"])
        failed = [r for r in result if r["STATUS"] == "SKIPPED"]
        assert 0 < len(failed) < 50 and all(r["ERRORS"].startswith("CANNOT_PROCESS") for r in failed)
        assert body["resource"][0]["file"]["added_count"] == 50 - len(failed)
