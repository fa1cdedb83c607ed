"""Modules and fields metadata: seeded standard modules, custom modules and fields with Zoho's
naming rules, unique and External ID limits, pick-list values."""

from __future__ import annotations

import pytest

from tests.zoho_server.conftest import org_profiles

pytestmark = pytest.mark.xdist_group("zoho_metadata")


def fields(api, module):
    return {f["api_name"]: f for f in api.get("/crm/v8/settings/fields", params={"module": module}).json()["fields"]}


def test_standard_modules_are_seeded_with_their_mandatory_fields(sapi):
    modules = {m["api_name"] for m in sapi.get("/crm/v8/settings/modules").json()["modules"]}
    assert {"Leads", "Contacts", "Accounts", "Deals", "Products", "Tasks", "Events", "Calls", "Notes", "Invoices"} <= modules
    mandatory = {m: {k for k, f in fields(sapi, m).items() if f["system_mandatory"]}
                 for m in ("Contacts", "Leads", "Accounts", "Tasks", "Events", "Invoices", "Notes")}
    assert mandatory["Contacts"] == {"Last_Name"} and mandatory["Leads"] == {"Last_Name"}
    assert mandatory["Accounts"] == {"Account_Name"} and mandatory["Tasks"] == {"Subject"}
    assert mandatory["Events"] == {"Event_Title", "Start_DateTime", "End_DateTime"}
    assert mandatory["Invoices"] == {"Subject", "Invoiced_Items"}
    items = fields(sapi, "Invoices")["Invoiced_Items"]
    product = next(f for f in items["subform_fields"] if f["api_name"] == "Product_Name")
    assert product["lookup"]["module"]["api_name"] == "Products" and product["system_mandatory"]
    assert "Type" not in fields(sapi, "Tasks")
    assert fields(sapi, "Contacts")["Email"]["length"] == 100


def test_custom_module_api_name_derives_from_plural_label(sapi):
    granted = org_profiles(sapi)
    resp = sapi.post("/crm/v8/settings/modules", json={"modules": [
        {"singular_label": "Insurance", "plural_label": "Insurance", "profiles": granted},
        {"singular_label": "Billing", "plural_label": "Billing History", "profiles": granted}]})
    assert resp.status_code == 201, resp.text
    modules = {m["api_name"]: m for m in sapi.get("/crm/v8/settings/modules").json()["modules"]}
    assert modules["Billing_History"]["generated_type"] == "custom"
    assert fields(sapi, "Insurance")["Name"]["system_mandatory"]
    rec = sapi.post("/crm/v8/Insurance", json={"data": [{"Name": "Plan A"}]})
    assert rec.status_code == 201
    again = sapi.post("/crm/v8/settings/modules", json={"modules": [{"singular_label": "Insurance", "plural_label": "Insurance",
                                                                    "profiles": granted}]})
    assert again.status_code == 400 and again.json()["modules"][0]["code"] == "DUPLICATE_DATA"
    long = sapi.post("/crm/v8/settings/modules", json={"modules": [{"singular_label": "x", "plural_label": "A" * 26, "profiles": granted}]})
    assert long.json()["modules"][0]["details"]["api_name"] == "plural_label"
    bad = sapi.post("/crm/v8/settings/modules", json={"modules": [{"singular_label": "T", "plural_label": "T", "api_name": "Bad__Name",
                                                                  "profiles": granted}]})
    assert bad.json()["modules"][0]["code"] == "INVALID_DATA"


def test_custom_fields_of_each_type_are_created_and_enforced(sapi):
    specs = [
        {"field_label": "Referral Source", "data_type": "picklist", "pick_list_values": [{"display_value": "Doctor"}, {"display_value": "Web"}]},
        {"field_label": "Conditions", "data_type": "multiselectpicklist", "pick_list_values": [{"display_value": "Asthma"}]},
        {"field_label": "Visits", "data_type": "integer"},
        {"field_label": "Balance", "data_type": "currency"},
        {"field_label": "First Visit", "data_type": "date"},
        {"field_label": "Last Seen", "data_type": "datetime"},
        {"field_label": "Portal", "data_type": "url"},
        {"field_label": "Consent", "data_type": "boolean"},
        {"field_label": "Alt Phone", "data_type": "phone"},
        {"field_label": "Alt Email", "data_type": "email"},
        {"field_label": "History", "data_type": "textarea", "length": 32000},
        {"field_label": "Code", "data_type": "text", "length": 5},
        {"field_label": "Home Clinic", "data_type": "lookup", "lookup": {"module": {"api_name": "Accounts"}}},
    ]
    resp = sapi.post("/crm/v8/settings/fields", params={"module": "Leads"}, json={"fields": specs})
    assert resp.status_code == 201, resp.text
    got = fields(sapi, "Leads")
    assert got["Referral_Source"]["data_type"] == "picklist" and got["Referral_Source"]["custom_field"]
    assert got["Portal"]["data_type"] == "website" and got["Home_Clinic"]["lookup"]["module"]["api_name"] == "Accounts"
    rec = sapi.post("/crm/v8/Leads", json={"data": [
        {"Last_Name": "Typed", "Company": "Co", "Visits": 3, "Balance": "12.50", "First_Visit": "2020-02-29", "Consent": True,
         "Conditions": ["Asthma", "Other"], "Code": "AB"},
        {"Last_Name": "TooLong", "Code": "ABCDEF"},
        {"Last_Name": "NotInt", "Visits": "three"},
        {"Last_Name": "BigInt", "Visits": 1234567890},
    ]}).json()["data"]
    assert rec[0]["status"] == "success"
    assert rec[1]["details"]["maximum_length"] == "5"
    assert rec[2]["details"]["expected_data_type"] == "integer"
    assert rec[3]["code"] == "INVALID_DATA"
    dup = sapi.post("/crm/v8/settings/fields", params={"module": "Leads"}, json={"fields": [{"field_label": "Visits", "data_type": "text"}]})
    assert dup.json()["fields"][0]["code"] == "DUPLICATE_DATA"
    bad_type = sapi.post("/crm/v8/settings/fields", params={"module": "Leads"}, json={"fields": [{"field_label": "X", "data_type": "rainbow"}]})
    assert bad_type.json()["fields"][0]["details"]["api_name"] == "data_type"


def test_at_most_two_unique_fields_and_no_external_email(sapi):
    def make(spec):
        return sapi.post("/crm/v8/settings/fields", params={"module": "Deals"}, json={"fields": [spec]}).json()["fields"][0]

    assert make({"field_label": "U1", "data_type": "text", "unique": {"casesensitive": False}})["code"] == "SUCCESS"
    assert make({"field_label": "U2", "data_type": "text", "unique": {}})["code"] == "SUCCESS"
    assert make({"field_label": "U3", "data_type": "text", "unique": {}})["code"] == "LIMIT_EXCEEDED"
    assert make({"field_label": "Ext Email", "data_type": "email", "external": {"type": "org"}})["code"] == "INVALID_DATA"
    assert make({"field_label": "Clinic Deal Id", "data_type": "text", "external": {"type": "org", "show": True}})["code"] == "SUCCESS"
    assert fields(sapi, "Deals")["Clinic_Deal_Id"]["external"] == {"type": "org", "show": True}


def test_picklist_values_are_added_through_patch(sapi):
    made = sapi.post("/crm/v8/settings/fields", params={"module": "Events"},
                     json={"fields": [{"field_label": "Visit Outcome", "data_type": "picklist", "pick_list_values": [{"display_value": "Attended"}]}]})
    fid = made.json()["fields"][0]["details"]["id"]
    resp = sapi.patch(f"/crm/v8/settings/fields/{fid}", params={"module": "Events"},
                      json={"fields": [{"pick_list_values": [{"display_value": "No show", "actual_value": "No show"}]}]})
    assert resp.status_code == 200, resp.text
    values = [p["actual_value"] for p in fields(sapi, "Events")["Visit_Outcome"]["pick_list_values"]]
    assert values == ["Attended", "No show"]
    one = sapi.get(f"/crm/v8/settings/fields/{fid}", params={"module": "Events"}).json()["fields"][0]
    assert one["api_name"] == "Visit_Outcome"


def test_missing_module_param_and_custom_field_limit_per_edition(zoho_server):
    from tests.zoho_server.conftest import api_client

    zoho_server.settings(edition="Standard")
    with api_client(zoho_server) as api:
        assert api.get("/crm/v8/settings/fields").json()["code"] == "REQUIRED_PARAM_MISSING"
        specs = [{"field_label": f"Extra {i}", "data_type": "text"} for i in range(11)]
        out = api.post("/crm/v8/settings/fields", params={"module": "Contacts"}, json={"fields": specs}).json()["fields"]
        assert [o["code"] for o in out].count("SUCCESS") == 10 and out[-1]["code"] == "LIMIT_EXCEEDED"


def test_custom_field_is_deleted_by_id_with_its_values_and_system_fields_are_not(sapi):
    made = sapi.post("/crm/v8/settings/fields", params={"module": "Accounts"},
                     json={"fields": [{"field_label": "Clinic Region Id", "data_type": "text", "length": 20,
                                       "external": {"type": "org"}}]})
    fid = made.json()["fields"][0]["details"]["id"]
    rid = sapi.post("/crm/v8/Accounts", json={"data": [{"Account_Name": "Del Field", "Clinic_Region_Id": "R1"}]}).json()["data"][0]["details"]["id"]
    by_name = sapi.delete("/crm/v8/settings/fields/Clinic_Region_Id", params={"module": "Accounts"})
    assert by_name.status_code == 400 and by_name.json()["code"] == "INVALID_DATA"  # Zoho takes the id
    no_module = sapi.delete(f"/crm/v8/settings/fields/{fid}")
    assert no_module.status_code == 400 and no_module.json()["code"] == "REQUIRED_PARAM_MISSING"
    resp = sapi.delete(f"/crm/v8/settings/fields/{fid}", params={"module": "Accounts"})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"fields": [{"code": "SUCCESS", "details": {"id": fid}, "message": "field deleted",
                                       "status": "success"}]}
    assert "Clinic_Region_Id" not in fields(sapi, "Accounts")
    assert "Clinic_Region_Id" not in sapi.get(f"/crm/v8/Accounts/{rid}").json()["data"][0]
    again = sapi.delete(f"/crm/v8/settings/fields/{fid}", params={"module": "Accounts"})
    assert again.status_code == 400 and again.json()["code"] == "INVALID_DATA"
    # the same label can be created again (the name is free) and a new record may use it
    assert sapi.post("/crm/v8/settings/fields", params={"module": "Accounts"},
                     json={"fields": [{"field_label": "Clinic Region Id", "data_type": "text"}]}).status_code == 201
    system = fields(sapi, "Accounts")["Account_Name"]["id"]
    refused = sapi.delete(f"/crm/v8/settings/fields/{system}", params={"module": "Accounts"})
    assert refused.status_code == 400 and refused.json()["code"] == "NOT_ALLOWED"
    assert "Account_Name" in fields(sapi, "Accounts")


def test_picklist_values_are_removed_through_patch_with_delete(sapi):
    made = sapi.post("/crm/v8/settings/fields", params={"module": "Tasks"},
                     json={"fields": [{"field_label": "Visit Kind", "data_type": "picklist",
                                       "pick_list_values": [{"display_value": "New"}, {"display_value": "Follow-up"}]}]})
    fid = made.json()["fields"][0]["details"]["id"]
    sapi.patch(f"/crm/v8/settings/fields/{fid}", params={"module": "Tasks"},
               json={"fields": [{"pick_list_values": [{"display_value": "Telehealth", "actual_value": "Telehealth"}]}]})
    before = {p["actual_value"]: p["id"] for p in fields(sapi, "Tasks")["Visit_Kind"]["pick_list_values"]}
    keep = sapi.patch(f"/crm/v8/settings/fields/{fid}", params={"module": "Tasks"},
                      json={"fields": [{"pick_list_values": [{"id": before["Telehealth"], "_delete": False}]}]})
    assert keep.status_code == 200 and "Telehealth" in [p["actual_value"] for p in fields(sapi, "Tasks")["Visit_Kind"]["pick_list_values"]]
    resp = sapi.patch(f"/crm/v8/settings/fields/{fid}", params={"module": "Tasks"},
                      json={"fields": [{"pick_list_values": [{"id": before["Telehealth"], "_delete": True}]}]})
    assert resp.status_code == 200, resp.text
    assert [p["actual_value"] for p in fields(sapi, "Tasks")["Visit_Kind"]["pick_list_values"]] == ["New", "Follow-up"]
