"""Notes and attachments over real HTTP."""

from __future__ import annotations

import pytest

from tests.zoho.conftest import unique

pytestmark = pytest.mark.xdist_group("zoho-client-notes")


def parent(client) -> str:
    (res,) = client.insert("Contacts", [{"Last_Name": "Parent", "Clinic_Patient_Id": unique("par")}])
    return res.id


def test_notes_are_added_and_listed_under_their_parent(client):
    pid = parent(client)
    notes = [{"Note_Title": f"[n:{i}] visit", "Note_Content": f"text {i}",
              "Parent_Id": {"module": {"api_name": "Contacts"}, "id": pid}} for i in range(130)]
    results = client.add_notes(notes)
    assert len(results) == 130 and all(r.ok and r.id for r in results)
    listed = client.notes("Contacts", pid)
    assert sorted(n["Note_Title"] for n in listed) == sorted(n["Note_Title"] for n in notes)


def test_attachment_upload_list_and_delete(client, tmp_path):
    pid = parent(client)
    doc = tmp_path / "doc-17.pdf"
    doc.write_bytes(b"%PDF-1.4 " + b"x" * 5000)
    res = client.upload_attachment("Contacts", pid, doc)
    assert res.ok and res.id
    listed = client.attachments("Contacts", pid)
    assert [(a["id"], a["File_Name"]) for a in listed] == [(res.id, "doc-17.pdf")]
    gone = client.delete_attachment("Contacts", pid, res.id)
    assert gone.ok
    assert client.attachments("Contacts", pid) == []


def test_an_attachment_over_the_size_limit_is_a_failed_result(zoho_server, make_client, tmp_path):
    zoho_server.settings(attachment_max_bytes=1000)
    client, _ = make_client(zoho_server)
    pid = parent(client)
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 5000)
    res = client.upload_attachment("Contacts", pid, big, file_name="doc-18.bin")
    assert not res.ok and res.code == "FILE_SIZE_MORE_THAN_ALLOWED_SIZE"
    assert client.attachments("Contacts", pid) == []
