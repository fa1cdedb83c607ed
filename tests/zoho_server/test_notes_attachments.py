"""Notes with Parent_Id and attachments (multipart upload, size limit → 413, list, download,
delete) over real HTTP."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("zoho_notes")


def contact(api, name):
    resp = api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": name}]})
    return resp.json()["data"][0]["details"]["id"]


def test_notes_attach_to_a_parent_and_list_per_record(sapi):
    cid = contact(sapi, "Noted")
    resp = sapi.post("/crm/v8/Notes", json={"data": [
        {"Note_Title": "[n:1] Visit", "Note_Content": "Seen today", "Parent_Id": {"module": {"api_name": "Contacts"}, "id": cid}},
        {"Note_Title": "orphan", "Note_Content": "x", "Parent_Id": {"module": {"api_name": "Contacts"}, "id": "5725767999999999999"}},
        {"Note_Title": "no content", "Parent_Id": {"module": {"api_name": "Contacts"}, "id": cid}},
        {"Note_Title": "no parent", "Note_Content": "x"},
    ]})
    assert resp.status_code == 207
    codes = [d["code"] for d in resp.json()["data"]]
    assert codes == ["SUCCESS", "INVALID_DATA", "MANDATORY_NOT_FOUND", "MANDATORY_NOT_FOUND"]
    related = sapi.post(f"/crm/v8/Contacts/{cid}/Notes", json={"data": [{"Note_Content": "second"}]})
    assert related.status_code == 201
    notes = sapi.get(f"/crm/v8/Contacts/{cid}/Notes").json()["data"]
    assert [n["Note_Content"] for n in notes] == ["Seen today", "second"]
    assert notes[0]["Parent_Id"]["id"] == cid and notes[0]["Parent_Id"]["module"]["api_name"] == "Contacts"
    assert notes[0]["Parent_Id"]["name"] == "Noted"
    deleted = sapi.delete("/crm/v8/Notes", params={"ids": notes[0]["id"]})
    assert deleted.json()["data"][0]["message"] == "record deleted"
    assert len(sapi.get(f"/crm/v8/Contacts/{cid}/Notes").json()["data"]) == 1
    assert sapi.get(f"/crm/v8/Contacts/{contact(sapi, 'Quiet')}/Notes").status_code == 204


def test_note_content_limit_is_a_setting(zoho_server):
    from tests.zoho_server.conftest import api_client

    zoho_server.settings(note_content_max=10)
    with api_client(zoho_server) as api:
        cid = contact(api, "Long")
        out = api.post(f"/crm/v8/Contacts/{cid}/Notes", json={"data": [{"Note_Content": "x" * 11}]}).json()["data"][0]
        assert out["code"] == "INVALID_DATA" and out["details"]["maximum_length"] == "10"


def test_attachments_upload_list_download_delete_and_413(sapi, shared_server):
    cid = contact(sapi, "Attached")
    up = sapi.post(f"/crm/v8/Contacts/{cid}/Attachments", files={"file": ("doc-17.pdf", b"%PDF-1.4 hello", "application/pdf")})
    assert up.status_code == 200
    assert up.json()["data"][0]["message"] == "attachment uploaded successfully"
    aid = up.json()["data"][0]["details"]["id"]
    listed = sapi.get(f"/crm/v8/Contacts/{cid}/Attachments", params={"fields": "File_Name,Size,$link_url"}).json()["data"]
    assert [(a["File_Name"], a["Size"], a["id"]) for a in listed] == [("doc-17.pdf", "14", aid)]
    got = sapi.get(f"/crm/v8/Contacts/{cid}/Attachments/{aid}")
    assert got.content == b"%PDF-1.4 hello" and "doc-17.pdf" in got.headers["content-disposition"]
    link = sapi.post(f"/crm/v8/Contacts/{cid}/Attachments", data={"attachmentUrl": "https://files.example/big-scan.tif"})
    assert link.status_code == 200
    shared_server.settings(attachment_max_bytes=1024)
    try:
        big = sapi.post(f"/crm/v8/Contacts/{cid}/Attachments", files={"file": ("big.bin", b"x" * 2048)})
        assert big.status_code == 413 and big.json()["data"][0]["code"] == "FILE_SIZE_MORE_THAN_ALLOWED_SIZE"
    finally:
        shared_server.settings(attachment_max_bytes=20 * 1024 * 1024)
    gone = sapi.delete(f"/crm/v8/Contacts/{cid}/Attachments/{aid}")
    assert gone.json()["data"][0]["code"] == "SUCCESS"
    assert [a["$link_url"] for a in sapi.get(f"/crm/v8/Contacts/{cid}/Attachments", params={"fields": "File_Name,Size,$link_url"}).json()["data"]] == ["https://files.example/big-scan.tif"]
    missing = sapi.post("/crm/v8/Contacts/5725767999999999999/Attachments", files={"file": ("a.txt", b"a")})
    assert missing.status_code == 400


def test_deleting_a_record_removes_its_notes_and_attachments_and_clears_lookups(sapi, shared_server):
    acc = sapi.post("/crm/v8/Accounts", json={"data": [{"Account_Name": "Closing Clinic"}]}).json()["data"][0]["details"]["id"]
    cid = sapi.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "Member", "Account_Name": {"id": acc}}]}).json()["data"][0]["details"]["id"]
    sapi.post(f"/crm/v8/Accounts/{acc}/Notes", json={"data": [{"Note_Content": "bye"}]})
    sapi.post(f"/crm/v8/Accounts/{acc}/Attachments", files={"file": ("a.txt", b"a")})
    sapi.delete(f"/crm/v8/Accounts/{acc}")
    snap = shared_server.snapshot()["data"]
    assert not [n for n in snap.get("Notes", {}).values() if n["Parent_Id"]["id"] == acc]  # no Notes left: no key
    assert not [a for a in snap["__attachments__"].values() if a["record_id"] == acc]
    assert snap["Contacts"][cid]["Account_Name"] is None
