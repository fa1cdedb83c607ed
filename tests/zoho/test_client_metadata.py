"""Org, users and metadata calls over real HTTP."""

from __future__ import annotations

import pytest

from tests.zoho.conftest import ensure_external_field, unique

pytestmark = pytest.mark.xdist_group("zoho-client-metadata")


def test_org_and_its_id(client):
    org = client.org()
    assert org.get("id")
    assert client.org_id() == str(org.get("zgid") or org["id"])


def test_users_are_listed_with_their_fields(client):
    users = client.users(type="ActiveUsers")
    assert users and {"id", "email", "full_name", "status"} <= set(users[0])
    assert all(u["status"] == "active" for u in users)


def test_modules_and_fields_list_the_standard_schema(client):
    names = {m["api_name"] for m in client.modules()}
    assert {"Leads", "Contacts", "Accounts", "Deals", "Tasks", "Events", "Notes", "Invoices"} <= names
    fields = {f["api_name"]: f for f in client.fields("Contacts")}
    assert "Last_Name" in fields and "Email" in fields


def test_create_module_returns_it_as_listed(client):
    label = unique("Prog").replace("-", "")[:20]
    module = client.create_module(label, label + "s")
    assert module["api_name"] and module["plural_label"] == label + "s"
    assert module["api_name"] in {m["api_name"] for m in client.modules()}


def test_create_field_reads_back_its_api_name_and_external_flag(client):
    api_name = ensure_external_field(client, "Contacts", "Clinic_Patient_Id")
    field = client.field("Contacts", api_name)
    assert field["data_type"] == "text" and field.get("external")


def test_pick_list_values_are_added_once(client):
    field = client.create_field("Contacts", {"field_label": unique("Referral ")[:25], "data_type": "picklist",
                                             "pick_list_values": [{"display_value": "Web", "actual_value": "Web"}]})
    after = client.add_picklist_values("Contacts", field["api_name"], ["Web", "Friend", "Doctor", "Friend"])
    values = [v["actual_value"] for v in after["pick_list_values"]]
    assert sorted(values) == ["Doctor", "Friend", "Web"]
    again = client.add_picklist_values("Contacts", field["api_name"], ["Doctor"])
    assert sorted(v["actual_value"] for v in again["pick_list_values"]) == ["Doctor", "Friend", "Web"]


def test_delete_field_by_api_name_or_id_and_what_it_refuses(client):
    from clinic2zoho.zoho import ZohoTerminalError

    made = client.create_field("Accounts", {"field_label": unique("Gone ")[:25], "data_type": "text"})
    rid = client.insert("Accounts", [{"Account_Name": unique("Acc"), made["api_name"]: "v"}])[0].id
    result = client.delete_field("Accounts", made["api_name"])
    assert result.ok and result.id == str(made["id"]) and result.api_name == made["api_name"]
    assert client.field("Accounts", made["api_name"]) is None
    assert made["api_name"] not in client.get("Accounts", rid)  # its values went with it
    with pytest.raises(ZohoTerminalError) as absent:
        client.delete_field("Accounts", made["api_name"])
    assert absent.value.code == "INVALID_FIELD"
    other = client.create_field("Accounts", {"field_label": unique("ById ")[:25], "data_type": "text"})
    assert client.delete_field("Accounts", str(other["id"])).ok
    with pytest.raises(ZohoTerminalError) as system:
        client.delete_field("Accounts", "Account_Name")
    assert system.value.code == "NOT_ALLOWED" and client.field("Accounts", "Account_Name") is not None


def test_remove_picklist_values_leaves_the_others(client):
    field = client.create_field("Contacts", {"field_label": unique("Source ")[:25], "data_type": "picklist",
                                             "pick_list_values": [{"display_value": "Web", "actual_value": "Web"}]})
    client.add_picklist_values("Contacts", field["api_name"], ["Friend", "Doctor"])
    after = client.remove_picklist_values("Contacts", field["api_name"], ["Friend", "Doctor", "Never there"])
    assert [v["actual_value"] for v in after["pick_list_values"]] == ["Web"]
    assert client.field("Contacts", field["api_name"])["pick_list_values"] == field["pick_list_values"]
    again = client.remove_picklist_values("Contacts", str(field["id"]), ["Friend"])  # nothing left to remove
    assert [v["actual_value"] for v in again["pick_list_values"]] == ["Web"]
