"""Layouts, profiles and related lists over real HTTP (OAS layouts.json, profiles.json,
related_lists.json), and what they decide: layout-mandatory fields refused on insert by the record
API and by Bulk Write rows (MANDATORY_NOT_FOUND with the api_name), a module created only for
existing profiles (Zoho's v8 "Create Custom Module"), and the official SDK's related-records call,
which reads /settings/related_lists first."""

from __future__ import annotations

import pytest

from tests.zoho_server.conftest import api_client, zip_csv
from tests.zoho_server.oas import OAS_DIR, Conformance, prepare
from tests.zoho_server.test_bulk_write import create_job, result_rows, upload, wait

pytestmark = pytest.mark.xdist_group("zoho_layouts")


def layout_fields(api, module):
    resp = api.get("/crm/v8/settings/layouts", params={"module": module})
    assert resp.status_code == 200, resp.text
    (layout,) = resp.json()["layouts"]
    return layout, {f["api_name"]: f for s in layout["sections"] for f in s["fields"]}


def test_standard_layouts_mark_zohos_required_fields(sapi):
    # Zoho's standard layouts: Leads Last_Name and Company; Contacts Last_Name; Accounts Account_Name;
    # Events title, start and end; Tasks Subject (CRM modules & fields help page, the modules' field metadata)
    expected = {"Leads": {"Last_Name", "Company"}, "Contacts": {"Last_Name"}, "Accounts": {"Account_Name"},
                "Events": {"Event_Title", "Start_DateTime", "End_DateTime"}, "Tasks": {"Subject"}}
    for module, required in expected.items():
        layout, fields = layout_fields(sapi, module)
        assert layout["name"] == "Standard" and layout["status"] == "active"
        assert {name for name, f in fields.items() if f["required"]} == required, module
    layout, _ = layout_fields(sapi, "Leads")
    again = sapi.get(f"/crm/v8/settings/layouts/{layout['id']}", params={"module": "Leads"})
    assert again.status_code == 200 and again.json()["layouts"][0]["id"] == layout["id"]
    assert sapi.get("/crm/v8/settings/layouts").json()["code"] == "REQUIRED_PARAM_MISSING"


def test_a_lead_without_company_is_refused_until_the_setting_is_off(zoho_server):
    with api_client(zoho_server) as api:
        resp = api.post("/crm/v8/Leads", json={"data": [{"Last_Name": "No Company"}, {"Last_Name": "Has", "Company": "Co"}]})
        assert resp.status_code == 207
        bad, good = resp.json()["data"]
        assert (bad["code"], bad["details"]["api_name"]) == ("MANDATORY_NOT_FOUND", "Company")
        assert good["code"] == "SUCCESS"
        # an update may not blank it either; one that leaves it alone passes
        rid = good["details"]["id"]
        blank = api.put(f"/crm/v8/Leads/{rid}", json={"data": [{"Company": ""}]}).json()["data"][0]
        assert (blank["code"], blank["details"]["api_name"]) == ("MANDATORY_NOT_FOUND", "Company")
        assert api.put(f"/crm/v8/Leads/{rid}", json={"data": [{"First_Name": "Ann"}]}).json()["data"][0]["code"] == "SUCCESS"
        zoho_server.settings(layout_mandatory=False)
        assert api.post("/crm/v8/Leads", json={"data": [{"Last_Name": "No Company"}]}).status_code == 201
        _, fields = layout_fields(api, "Leads")
        assert fields["Company"]["required"] is False


def test_an_admin_made_field_layout_mandatory_on_record_and_bulk_inserts(zoho_server):
    zoho_server.settings(layout_required={"Contacts": ["Email"]})
    with api_client(zoho_server) as api:
        _, fields = layout_fields(api, "Contacts")
        assert fields["Email"]["required"] is True and fields["Email"]["system_mandatory"] is False
        one = api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "No Mail"}]}).json()["data"][0]
        assert (one["code"], one["details"]["api_name"]) == ("MANDATORY_NOT_FOUND", "Email")
        file_id = upload(api, zoho_server, zip_csv("Last_Name,Email\nMailed,m@bulk.example\nUnmailed,\n")).json()["details"]["file_id"]
        job = create_job(api, file_id, mappings=[{"api_name": "Last_Name", "index": 0}, {"api_name": "Email", "index": 1}])
        body, _ = wait(api, job.json()["details"]["id"])
        rows = result_rows(api, body["result"]["download_url"])
        assert [(r["STATUS"], r["ERRORS"]) for r in rows] == [("ADDED", ""), ("SKIPPED", "MANDATORY_NOT_FOUND-Email")]


def test_profiles_and_modules_created_for_them(sapi):
    listed = sapi.get("/crm/v8/settings/profiles").json()["profiles"]
    names = {p["name"]: p["id"] for p in listed}
    assert {"Administrator", "Standard"} <= set(names)
    users = sapi.get("/crm/v8/users").json()["users"]
    assert {u["profile"]["id"] for u in users} <= set(names.values())  # every user holds a listed profile
    one = sapi.get(f"/crm/v8/settings/profiles/{names['Standard']}").json()["profiles"][0]
    assert one["name"] == "Standard" and one["permissions_details"]
    assert sapi.get("/crm/v8/settings/profiles/5725766999999999999").status_code == 204
    missing = sapi.post("/crm/v8/settings/modules", json={"modules": [{"singular_label": "Referral", "plural_label": "Referrals"}]})
    err = missing.json()["modules"][0]  # Zoho's v8 "Create Custom Module": profiles is mandatory
    assert missing.status_code == 400 and (err["code"], err["details"]["api_name"]) == ("MANDATORY_NOT_FOUND", "profiles")
    bad = sapi.post("/crm/v8/settings/modules", json={"modules": [
        {"singular_label": "Referral", "plural_label": "Referrals", "profiles": [{"id": "111"}]}]})
    assert bad.status_code == 400
    err = bad.json()["modules"][0]
    assert (err["code"], err["details"]["api_name"]) == ("INVALID_DATA", "profiles")
    ok = sapi.post("/crm/v8/settings/modules", json={"modules": [
        {"singular_label": "Referral", "plural_label": "Referrals", "profiles": [{"id": names["Standard"]}]}]})
    assert ok.status_code == 201, ok.text
    made = sapi.get("/crm/v8/settings/modules/Referrals").json()["modules"][0]
    assert [p["id"] for p in made["profiles"]] == [names["Standard"]]
    _, fields = layout_fields(sapi, "Referrals")
    assert {n for n, f in fields.items() if f["required"]} == {"Name"}  # a custom module's layout: Name


def test_related_lists_name_what_the_related_route_serves(sapi):
    lists = sapi.get("/crm/v8/settings/related_lists", params={"module": "Contacts"}).json()["related_lists"]
    by_name = {r["api_name"]: r for r in lists}
    assert {"Notes", "Attachments", "Calls", "Tasks", "Events", "Deals"} <= set(by_name)
    assert by_name["Calls"]["href"] == "Contacts/{ENTITYID}/Calls" and by_name["Calls"]["module"]["api_name"] == "Calls"
    cid = sapi.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "Related"}]}).json()["data"][0]["details"]["id"]
    sapi.post("/crm/v8/Tasks", json={"data": [{"Subject": "Follow up", "Who_Id": {"id": cid}}]})
    for name in ("Tasks", "Calls"):
        resp = sapi.get(f"/crm/v8/Contacts/{cid}/{name}", params={"fields": "Subject"})
        assert resp.status_code in (200, 204), (name, resp.text)
    assert sapi.get(f"/crm/v8/Contacts/{cid}/Tasks", params={"fields": "Subject"}).json()["data"][0]["Subject"] == "Follow up"


@pytest.mark.skipif(not OAS_DIR.is_dir(), reason="Zoho's OAS files are not in the shared folder")
def test_answers_match_the_oas_files(sapi, tmp_path):
    oas = Conformance(prepare(tmp_path / "oas"))
    layouts = sapi.get("/crm/v8/settings/layouts", params={"module": "Leads"})
    oas.check("layouts.json", "GET", "/crm/v8/settings/layouts", "/crm/v8/settings/layouts", 200, layouts.json(), {"module": "Leads"})
    lid = layouts.json()["layouts"][0]["id"]
    one = sapi.get(f"/crm/v8/settings/layouts/{lid}", params={"module": "Leads"})
    oas.check("layouts.json", "GET", f"/crm/v8/settings/layouts/{lid}", "/crm/v8/settings/layouts/{id}", 200, one.json(),
              {"module": "Leads"})
    profiles = sapi.get("/crm/v8/settings/profiles")
    oas.check("profiles.json", "GET", "/crm/v8/settings/profiles", "/crm/v8/settings/profiles", 200, profiles.json())
    pid = profiles.json()["profiles"][0]["id"]
    oas.check("profiles.json", "GET", f"/crm/v8/settings/profiles/{pid}", "/crm/v8/settings/profiles/{id}", 200,
              sapi.get(f"/crm/v8/settings/profiles/{pid}").json())
    related = sapi.get("/crm/v8/settings/related_lists", params={"module": "Contacts"})
    oas.check("related_lists.json", "GET", "/crm/v8/settings/related_lists", "/crm/v8/settings/related_lists", 200,
              related.json(), {"module": "Contacts"})


def test_official_sdk_reads_related_records(zoho_server, tmp_path):
    pytest.importorskip("zohocrmsdk")
    from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api.related_records import RelatedRecordsOperations, ResponseWrapper
    from zohocrmsdk.src.com.zoho.crm.api.related_records.related_records_operations import GetRelatedRecordsParam

    with api_client(zoho_server) as api:
        cid = api.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "Sdk Related"}]}).json()["data"][0]["details"]["id"]
        api.post("/crm/v8/Tasks", json={"data": [{"Subject": "Sdk task", "Who_Id": {"id": cid}}]})
    from tests.zoho_server.sdk import initialize

    initialize(zoho_server, tmp_path)
    params = ParameterMap()
    params.add(GetRelatedRecordsParam.fields, "Subject")
    resp = RelatedRecordsOperations("Tasks", "Contacts").get_related_records(int(cid), params, HeaderMap())
    assert resp.get_status_code() == 200
    wrapper = resp.get_object()
    assert isinstance(wrapper, ResponseWrapper)
    assert [r.get_key_value("Subject") for r in wrapper.get_data()] == ["Sdk task"]
