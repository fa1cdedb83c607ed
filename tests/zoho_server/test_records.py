"""Record APIs over real HTTP: insert/update/upsert/get/search/list/delete with Zoho's per-record
codes, External ID fields through X-EXTERNAL, lookups, subforms."""

from __future__ import annotations

import pytest

from tests.zoho_server.conftest import add_external_field

pytestmark = pytest.mark.xdist_group("zoho_records")


@pytest.fixture(scope="module", autouse=True)
def _external_field(shared_server):
    from tests.zoho_server.conftest import api_client

    with api_client(shared_server) as client:
        add_external_field(client, "Contacts", "Clinic Patient Id")
        add_external_field(client, "Accounts", "Clinic Account Id")


def insert(api, module, *records, status=None):
    resp = api.post(f"/crm/v8/{module}", json={"data": list(records)})
    if status is not None:
        assert resp.status_code == status, resp.text
    return resp


def test_insert_all_good_is_201_and_answers_ids_in_input_order(sapi):
    resp = insert(sapi, "Contacts", {"Last_Name": "Order1"}, {"Last_Name": "Order2"}, status=201)
    data = resp.json()["data"]
    assert [d["code"] for d in data] == ["SUCCESS", "SUCCESS"]
    assert data[0]["message"] == "record added" and data[0]["action"] == "insert"
    ids = [d["details"]["id"] for d in data]
    assert [sapi.get(f"/crm/v8/Contacts/{i}").json()["data"][0]["Last_Name"] for i in ids] == ["Order1", "Order2"]


def test_per_record_errors_make_a_207_and_carry_zoho_details(sapi):
    acc = insert(sapi, "Accounts", {"Account_Name": "Errors Clinic"}, status=201).json()["data"][0]["details"]["id"]
    resp = insert(sapi, "Contacts",
                  {"Last_Name": "Fine", "Account_Name": {"id": acc}, "Email": "fine@errors.example"},
                  {"First_Name": "NoLast"},
                  {"Last_Name": "Dup", "Email": "FINE@errors.example"},
                  {"Last_Name": "BadLookup", "Account_Name": {"id": "5725767999999999999"}},
                  {"Last_Name": "x" * 81},
                  {"Last_Name": "BadDate", "Date_of_Birth": "12/31/1990"},
                  {"Last_Name": "BadType", "Email_Opt_Out": "maybe"},
                  {"Last_Name": "BadEmail", "Email": "not-an-email"},
                  status=207)
    data = resp.json()["data"]
    assert data[0]["status"] == "success"
    assert data[1] == {"code": "MANDATORY_NOT_FOUND", "status": "error", "message": "required field not found",
                       "details": {"api_name": "Last_Name", "json_path": "$.data[1].Last_Name"}}
    assert data[2]["code"] == "DUPLICATE_DATA" and data[2]["details"]["api_name"] == "Email"
    assert data[2]["details"]["duplicate_record"]["id"] == data[0]["details"]["id"]
    assert data[2]["details"]["duplicate_record"]["module"]["api_name"] == "Contacts"
    assert data[3]["code"] == "INVALID_DATA" and data[3]["details"]["api_name"] == "Account_Name"
    assert data[4]["code"] == "INVALID_DATA" and data[4]["details"]["maximum_length"] == "80"
    assert data[5]["details"] == {"api_name": "Date_of_Birth", "json_path": "$.data[5].Date_of_Birth", "expected_data_type": "date"}
    assert data[6]["details"]["expected_data_type"] == "boolean"
    assert data[7]["details"]["api_name"] == "Email"


def test_all_records_failing_is_400_with_the_same_body(sapi):
    resp = insert(sapi, "Contacts", {"First_Name": "Only"}, status=400)
    assert resp.json()["data"][0]["code"] == "MANDATORY_NOT_FOUND"


def test_datetime_needs_an_offset_and_picklist_values_outside_the_list_are_accepted(sapi):
    resp = insert(sapi, "Events",
                  {"Event_Title": "Visit", "Start_DateTime": "2024-01-15T15:26:49+05:30", "End_DateTime": "2024-01-15T16:00:00+05:30"},
                  {"Event_Title": "Naive", "Start_DateTime": "2024-01-15T15:26:49", "End_DateTime": "2024-01-15T16:00:00+05:30"},
                  status=207)
    data = resp.json()["data"]
    assert data[0]["status"] == "success"
    assert data[1]["code"] == "INVALID_DATA" and data[1]["details"]["expected_data_type"] == "datetime"
    task = insert(sapi, "Tasks", {"Subject": "Call back", "Status": "Waiting on patient"}, status=201).json()["data"][0]
    assert sapi.get(f"/crm/v8/Tasks/{task['details']['id']}").json()["data"][0]["Status"] == "Waiting on patient"


def test_more_than_100_records_per_call_is_refused(sapi):
    resp = sapi.post("/crm/v8/Contacts", json={"data": [{"Last_Name": f"N{i}"} for i in range(101)]})
    assert resp.status_code == 400 and resp.json()["code"] == "LIMIT_EXCEEDED"


def test_unknown_module_is_invalid_module(sapi):
    resp = sapi.post("/crm/v8/Patients", json={"data": [{"Name": "x"}]})
    assert resp.status_code == 400 and resp.json()["code"] == "INVALID_MODULE"


def test_owner_must_be_an_active_user(sapi, shared_server):
    users = sapi.get("/crm/v8/users", params={"type": "AllUsers"}).json()["users"]
    ana = next(u for u in users if u["email"] == "dr.rivera@clinic.example")
    former = next(u for u in users if u["status"] != "active")
    data = insert(sapi, "Contacts", {"Last_Name": "Owned", "Owner": {"id": ana["id"]}},
                  {"Last_Name": "Orphan", "Owner": {"id": former["id"]}}, status=207).json()["data"]
    rec = sapi.get(f"/crm/v8/Contacts/{data[0]['details']['id']}").json()["data"][0]
    assert rec["Owner"] == {"name": "Ana Rivera", "id": ana["id"], "email": "dr.rivera@clinic.example"}
    assert data[1]["code"] == "INVALID_DATA" and data[1]["details"]["api_name"] == "Owner"


def test_update_by_id_and_errors(sapi):
    rid = insert(sapi, "Contacts", {"Last_Name": "Before", "Phone": "1"}, status=201).json()["data"][0]["details"]["id"]
    resp = sapi.put("/crm/v8/Contacts", json={"data": [{"id": rid, "Last_Name": "After"}, {"Last_Name": "NoId"},
                                                       {"id": "5725767999999999999", "Last_Name": "Ghost"}]})
    assert resp.status_code == 207
    data = resp.json()["data"]
    assert data[0]["code"] == "SUCCESS" and data[0]["message"] == "record updated"
    assert data[1]["code"] == "MANDATORY_NOT_FOUND" and data[1]["details"]["api_name"] == "id"
    assert data[2]["code"] == "INVALID_DATA" and data[2]["details"]["api_name"] == "id"
    rec = sapi.get(f"/crm/v8/Contacts/{rid}").json()["data"][0]
    assert rec["Last_Name"] == "After" and rec["Phone"] == "1"
    cleared = sapi.put(f"/crm/v8/Contacts/{rid}", json={"data": [{"Last_Name": None}]}).json()["data"][0]
    assert cleared["code"] == "MANDATORY_NOT_FOUND"


def test_upsert_with_duplicate_check_fields_inserts_then_updates(sapi):
    body = {"data": [{"Last_Name": "Ups", "Email": "ups@x.example", "Phone": "1"}], "duplicate_check_fields": ["Email"]}
    first = sapi.post("/crm/v8/Contacts/upsert", json=body)
    assert first.status_code == 201
    assert first.json()["data"][0]["action"] == "insert"
    body["data"][0]["Phone"] = "2"
    second = sapi.post("/crm/v8/Contacts/upsert", json=body)
    assert second.status_code == 200
    item = second.json()["data"][0]
    assert item["action"] == "update" and item["duplicate_field"] == "Email"
    assert item["details"]["id"] == first.json()["data"][0]["details"]["id"]
    assert sapi.get(f"/crm/v8/Contacts/{item['details']['id']}").json()["data"][0]["Phone"] == "2"


def test_external_id_get_update_upsert_with_x_external(sapi):
    hdr = {"X-EXTERNAL": "Contacts.Clinic_Patient_Id"}
    up = sapi.post("/crm/v8/Contacts/upsert", headers=hdr, json={"data": [{"Last_Name": "Ext", "Clinic_Patient_Id": "P-1"}]})
    assert up.json()["data"][0]["action"] == "insert"
    again = sapi.post("/crm/v8/Contacts/upsert", headers=hdr, json={"data": [{"Last_Name": "Ext2", "Clinic_Patient_Id": "P-1"}]})
    assert again.json()["data"][0]["action"] == "update"
    got = sapi.get("/crm/v8/Contacts/P-1", headers=hdr).json()["data"][0]
    assert got["Last_Name"] == "Ext2" and got["id"] == up.json()["data"][0]["details"]["id"]
    upd = sapi.put("/crm/v8/Contacts", headers=hdr, json={"data": [{"Clinic_Patient_Id": "P-1", "Phone": "9"},
                                                                   {"Clinic_Patient_Id": "P-404", "Phone": "9"}]})
    assert [d["code"] for d in upd.json()["data"]] == ["SUCCESS", "INVALID_DATA"]
    assert sapi.get("/crm/v8/Contacts/P-404", headers=hdr).status_code == 204
    dup = insert(sapi, "Contacts", {"Last_Name": "Twin", "Clinic_Patient_Id": "p-1"}).json()["data"][0]
    assert dup["code"] == "DUPLICATE_DATA" and dup["details"]["api_name"] == "Clinic_Patient_Id"
    bad = sapi.get("/crm/v8/Contacts/P-1", headers={"X-EXTERNAL": "Contacts.Last_Name"})
    assert bad.status_code == 400


def test_get_missing_record_is_204(sapi):
    assert sapi.get("/crm/v8/Contacts/5725767999999999999").status_code == 204


def test_search_by_criteria_email_and_word(sapi):
    insert(sapi, "Contacts", {"Last_Name": "Searchable", "First_Name": "Sam", "Email": "sam@search.example", "Phone": "555-1"},
           {"Last_Name": "Searchable", "First_Name": "Sue", "Email": "sue@search.example"}, status=201)
    hits = sapi.get("/crm/v8/Contacts/search", params={"criteria": "((Last_Name:equals:searchable)and(First_Name:starts_with:Su))"})
    assert [r["First_Name"] for r in hits.json()["data"]] == ["Sue"]
    both = sapi.get("/crm/v8/Contacts/search", params={"criteria": "(Email:in:sam@search.example,sue@search.example)"})
    assert both.json()["info"]["count"] == 2
    assert sapi.get("/crm/v8/Contacts/search", params={"email": "SAM@search.example"}).json()["data"][0]["First_Name"] == "Sam"
    assert sapi.get("/crm/v8/Contacts/search", params={"criteria": "(Last_Name:equals:Nobody)"}).status_code == 204
    bad = sapi.get("/crm/v8/Contacts/search", params={"criteria": "Last_Name=x"})
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID_QUERY"
    eleven = "(" + "and".join(f"(Last_Name:equals:{i})" for i in range(11)) + ")"
    assert sapi.get("/crm/v8/Contacts/search", params={"criteria": eleven}).json()["code"] == "INVALID_QUERY"


def test_list_needs_fields_and_pages_with_page_token(zoho_server):
    from tests.zoho_server.conftest import api_client

    with api_client(zoho_server) as api:
        for k in range(3):
            insert(api, "Leads", *[{"Last_Name": f"Lead {k}-{i}", "Company": "Co"} for i in range(100)], status=201)
        assert api.get("/crm/v8/Leads").json()["code"] == "REQUIRED_PARAM_MISSING"
        seen, token = [], None
        while True:
            params = {"fields": "Last_Name", "per_page": 200, **({"page_token": token} if token else {})}
            body = api.get("/crm/v8/Leads", params=params).json()
            seen += [r["Last_Name"] for r in body["data"]]
            assert set(body["data"][0]) == {"id", "Last_Name"}
            if not body["info"]["more_records"]:
                break
            token = body["info"]["next_page_token"]
        assert len(seen) == 300 and len(set(seen)) == 300
        deep = api.get("/crm/v8/Leads", params={"fields": "Last_Name", "per_page": 200, "page": 11})
        assert deep.status_code == 400


def test_delete_by_ids_reports_each_and_limits_to_100(sapi):
    ids = [d["details"]["id"] for d in insert(sapi, "Contacts", {"Last_Name": "Del1"}, {"Last_Name": "Del2"}).json()["data"]]
    resp = sapi.delete("/crm/v8/Contacts", params={"ids": ",".join(ids + ["5725767999999999999"])})
    assert resp.status_code == 207
    assert [d["message"] for d in resp.json()["data"]] == ["record deleted", "record deleted", "the id given seems to be invalid"]
    assert sapi.get(f"/crm/v8/Contacts/{ids[0]}").status_code == 204
    many = sapi.delete("/crm/v8/Contacts", params={"ids": ",".join(str(i) for i in range(101))})
    assert many.status_code == 400 and many.json()["code"] == "LIMIT_EXCEEDED"


def test_invoice_needs_line_items_pointing_at_products(sapi):
    prod = insert(sapi, "Products", {"Product_Name": "Clinic services"}, status=201).json()["data"][0]["details"]["id"]
    resp = insert(sapi, "Invoices",
                  {"Subject": "Claim 1", "Invoiced_Items": [{"Product_Name": {"id": prod}, "Quantity": 2, "List_Price": 50}]},
                  {"Subject": "No lines"},
                  {"Subject": "No product", "Invoiced_Items": [{"Quantity": 1, "List_Price": 5}]},
                  {"Subject": "Bad product", "Invoiced_Items": [{"Product_Name": {"id": "5725767999999999999"}}]},
                  status=207)
    data = resp.json()["data"]
    assert data[0]["status"] == "success"
    assert data[1]["details"]["api_name"] == "Invoiced_Items" and data[1]["code"] == "MANDATORY_NOT_FOUND"
    assert data[2]["details"]["json_path"] == "$.data[2].Invoiced_Items[0].Product_Name"
    assert data[3]["code"] == "INVALID_DATA"
    inv = sapi.get(f"/crm/v8/Invoices/{data[0]['details']['id']}").json()["data"][0]
    assert inv["Grand_Total"] == 100.0 and inv["Invoiced_Items"][0]["Total"] == 100.0


def test_activities_link_who_and_what(sapi):
    con = insert(sapi, "Contacts", {"Last_Name": "Who"}, status=201).json()["data"][0]["details"]["id"]
    acc = insert(sapi, "Accounts", {"Account_Name": "What Clinic"}, status=201).json()["data"][0]["details"]["id"]
    task = insert(sapi, "Tasks", {"Subject": "Follow up", "Who_Id": {"id": con}, "What_Id": {"id": acc}, "$se_module": "Accounts"},
                  status=201).json()["data"][0]["details"]["id"]
    got = sapi.get(f"/crm/v8/Tasks/{task}").json()["data"][0]
    assert got["Who_Id"] == {"name": "Who", "id": con}
    assert got["What_Id"] == {"name": "What Clinic", "id": acc} and got["$se_module"] == "Accounts"
    assert insert(sapi, "Calls", {"Subject": "c", "Call_Type": "Outbound", "Call_Start_Time": "2024-01-01T10:00:00+00:00",
                                  "Who_Id": {"id": "123"}}).json()["data"][0]["code"] == "INVALID_DATA"
