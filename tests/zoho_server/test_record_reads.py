"""Record reads beside list/get, over real HTTP: `/{module}/actions/count` (record_count.json),
`/{module}/deleted` (record.json Deleted_Records_Wrapper; Zoho's "Get List of Deleted Records"),
`If-Modified-Since` on list and get (record.json's header; Zoho's status codes: 304), and an
attachment by URL given as the `attachmentUrl` query parameter (attachments.json)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.zoho_server.conftest import api_client
from tests.zoho_server.oas import OAS_DIR, Conformance, prepare

pytestmark = pytest.mark.xdist_group("zoho_record_reads")


def insert(api, module, *records):
    resp = api.post(f"/crm/v8/{module}", json={"data": list(records)})
    assert resp.status_code == 201, resp.text
    return [d["details"]["id"] for d in resp.json()["data"]]


def test_count_answers_the_module_total_and_the_email_filter(api):
    assert api.get("/crm/v8/Products/actions/count").json() == {"count": 0}
    insert(api, "Products", {"Product_Name": "Count A"}, {"Product_Name": "Count B"}, {"Product_Name": "Count C"})
    assert api.get("/crm/v8/Products/actions/count").json() == {"count": 3}
    insert(api, "Contacts", {"Last_Name": "Counted", "Email": "counted@x.example"}, {"Last_Name": "Other"})
    assert api.get("/crm/v8/Contacts/actions/count", params={"email": "counted@x.example"}).json() == {"count": 1}
    both = api.get("/crm/v8/Contacts/actions/count", params={"email": "a@x.example", "cvid": "1"})
    assert both.status_code == 400 and both.json()["code"] == "AMBIGUITY_DURING_PROCESSING"  # record_count.json
    bad = api.get("/crm/v8/Nowhere/actions/count")
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID_MODULE"


def test_deleted_records_are_remembered_by_type(api, zoho_server):
    ids = insert(api, "Contacts", {"Last_Name": "Gone One"}, {"Last_Name": "Gone Two"}, {"Last_Name": "Stays"})
    assert api.get("/crm/v8/Contacts/deleted").status_code == 204
    assert api.delete("/crm/v8/Contacts", params={"ids": ",".join(ids[:2])}).status_code == 200
    body = api.get("/crm/v8/Contacts/deleted", params={"type": "all"}).json()
    assert {d["id"] for d in body["data"]} == set(ids[:2])
    entry = next(d for d in body["data"] if d["id"] == ids[0])
    admin = api.get("/crm/v8/users", params={"type": "CurrentUser"}).json()["users"][0]
    assert entry["display_name"] == "Gone One" and entry["type"] == "recycle"
    assert entry["deleted_by"]["id"] == admin["id"] and entry["created_by"]["id"] == admin["id"]
    assert body["info"]["count"] == 2 and body["info"]["more_records"] is False
    assert api.get("/crm/v8/Contacts/deleted", params={"type": "permanent"}).status_code == 204
    # past the recycle bin's 60 days a deletion is permanent
    zoho_server.advance_clock(61 * 86_400)
    with api_client(zoho_server) as later:  # the first token has expired meanwhile
        assert {d["type"] for d in later.get("/crm/v8/Contacts/deleted").json()["data"]} == {"permanent"}
        assert later.get("/crm/v8/Contacts/deleted", params={"type": "recycle"}).status_code == 204
        wrong = later.get("/crm/v8/Contacts/deleted", params={"type": "trash"})
        assert wrong.status_code == 400 and wrong.json()["code"] == "INVALID_DATA"
        # a record that is still there is not "deleted", and "deleted" is no record id
        assert later.get(f"/crm/v8/Contacts/{ids[2]}").status_code == 200


def stamp(seconds_from_now: float, api) -> str:
    org_now = datetime.fromisoformat(api.get(f"/crm/v8/Contacts/{insert(api, 'Contacts', {'Last_Name': 'Clock'})[0]}")
                                     .json()["data"][0]["Modified_Time"])
    return (org_now + timedelta(seconds=seconds_from_now)).astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat()


def test_if_modified_since_filters_the_list_and_answers_304(api, zoho_server):
    old = insert(api, "Accounts", {"Account_Name": "Old Clinic"})[0]
    since = stamp(1, api)  # an offset other than UTC, as Zoho's sample header
    zoho_server.advance_clock(5)
    new = insert(api, "Accounts", {"Account_Name": "New Clinic"})[0]
    resp = api.get("/crm/v8/Accounts", params={"fields": "Account_Name"}, headers={"If-Modified-Since": since})
    assert resp.status_code == 200 and [r["id"] for r in resp.json()["data"]] == [new]
    later = stamp(60, api)
    assert api.get("/crm/v8/Accounts", params={"fields": "Account_Name"}, headers={"If-Modified-Since": later}).status_code == 304
    assert api.get(f"/crm/v8/Accounts/{old}", headers={"If-Modified-Since": since}).status_code == 304
    assert api.get(f"/crm/v8/Accounts/{new}", headers={"If-Modified-Since": since}).status_code == 200
    bad = api.get(f"/crm/v8/Accounts/{new}", headers={"If-Modified-Since": "yesterday"})
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID_DATA"


def test_deleted_takes_if_modified_since(api, zoho_server):
    first = insert(api, "Leads", {"Last_Name": "Early", "Company": "Co"}, {"Last_Name": "Late", "Company": "Co"})
    api.delete(f"/crm/v8/Leads/{first[0]}")
    since = stamp(1, api)
    zoho_server.advance_clock(5)
    api.delete(f"/crm/v8/Leads/{first[1]}")
    resp = api.get("/crm/v8/Leads/deleted", headers={"If-Modified-Since": since})
    assert [d["id"] for d in resp.json()["data"]] == [first[1]]


def test_attachment_url_as_a_query_parameter(api):
    rid = insert(api, "Contacts", {"Last_Name": "Linked"})[0]
    resp = api.post(f"/crm/v8/Contacts/{rid}/Attachments",
                    params={"attachmentUrl": "https://files.example/referral-letter.pdf"})
    assert resp.status_code == 200, resp.text
    listed = api.get(f"/crm/v8/Contacts/{rid}/Attachments", params={"fields": "File_Name,$link_url"}).json()["data"]
    assert [a["File_Name"] for a in listed] == ["referral-letter.pdf"]


@pytest.mark.skipif(not OAS_DIR.is_dir(), reason="Zoho's OAS files are not in the shared folder")
def test_answers_match_the_oas_files(api, tmp_path):
    oas = Conformance(prepare(tmp_path / "oas"))
    ids = insert(api, "Contacts", {"Last_Name": "Oas Gone"})
    api.delete(f"/crm/v8/Contacts/{ids[0]}")
    resp = api.get("/crm/v8/Contacts/deleted", params={"type": "all"})
    oas.check("record.json", "GET", "/crm/v8/Contacts/deleted", "/crm/v8/{module_api_name}/deleted", 200, resp.json(),
              {"type": "all"})
    bad = api.get("/crm/v8/Nowhere/actions/count")
    oas.check("record_count.json", "GET", "/crm/v8/Nowhere/actions/count", "/crm/v8/{module_api_name}/actions/count",
              400, bad.json())
