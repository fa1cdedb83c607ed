"""Record calls over real HTTP: chunking to 100, per-record results and errors, reads, search,
paging, upsert and delete; the audit callback sees counts and credits, never record data."""

from __future__ import annotations

import logging

import pytest

from clinic2zoho.zoho import ZohoTerminalError
from tests.zoho.conftest import contacts, count_by_key, ensure_external_field, unique

pytestmark = pytest.mark.xdist_group("zoho-client-records")


@pytest.fixture
def ext(client) -> str:
    return ensure_external_field(client)


def test_insert_chunks_to_100_and_keeps_input_order(make_client, ext):
    client, calls = make_client()
    tag = unique("ins")
    results = client.insert("Contacts", contacts(250, tag), external_field=ext)
    assert [r.index for r in results] == list(range(250))
    assert all(r.ok and r.code == "SUCCESS" and r.action == "insert" and r.id for r in results)
    inserts = calls.of(method="POST", path="/crm/v8/Contacts")
    assert [e.record_count for e in inserts] == [100, 100, 50]
    assert [e.credits for e in inserts] == [10, 10, 5]
    assert [e.status for e in inserts] == [201, 201, 201]
    assert len(set(r.id for r in results)) == 250
    assert client.get("Contacts", results[7].id)["Clinic_Patient_Id"] == f"{tag}-7"


def test_audit_events_and_logs_carry_no_record_data(make_client, ext, caplog, monkeypatch):
    httpx_log = logging.getLogger("httpx")  # Airflow's logging setup (other tests) may quieten it
    monkeypatch.setattr(httpx_log, "disabled", False)
    monkeypatch.setattr(httpx_log, "propagate", True)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="httpx")
    client, calls = make_client()
    tag = unique("audit")
    client.insert("Contacts", [{"Last_Name": "Privatename", "Email": f"{tag}@example.org",
                                "Clinic_Patient_Id": tag}], external_field=ext)
    list(client.search("Contacts", f"(Email:equals:{tag}@example.org)"))
    text = repr(calls.events)
    assert "Privatename" not in text and "example.org" not in text and tag not in text
    assert "/search" in caplog.text  # httpx logged the call, without its query string
    assert "example.org" not in caplog.text and "Privatename" not in caplog.text


def test_per_record_errors_come_back_by_position(client, ext):
    tag = unique("err")
    results = client.insert("Contacts", [
        {"Last_Name": "Ok", "Clinic_Patient_Id": f"{tag}-0"},
        {"Clinic_Patient_Id": f"{tag}-1"},  # no Last_Name
        {"Last_Name": "x" * 300, "Clinic_Patient_Id": f"{tag}-2"},  # too long
        {"Last_Name": "Dup", "Clinic_Patient_Id": f"{tag}-0"},  # external id taken
    ], external_field=ext)
    assert [r.ok for r in results] == [True, False, False, False]
    assert (results[1].code, results[1].api_name) == ("MANDATORY_NOT_FOUND", "Last_Name")
    assert (results[2].code, results[2].api_name) == ("INVALID_DATA", "Last_Name")
    assert int(results[2].details["maximum_length"]) == 80  # Contacts.Last_Name
    assert results[3].code == "DUPLICATE_DATA"


def test_an_unknown_module_is_a_terminal_error(client):
    with pytest.raises(ZohoTerminalError) as info:
        client.insert("Nonexistent_Things", [{"Name": "x"}])
    assert info.value.status == 400 and info.value.code == "INVALID_MODULE"


def test_get_by_id_and_by_external_value(client, ext):
    tag = unique("get")
    (res,) = client.insert("Contacts", [{"Last_Name": "Getme", "Clinic_Patient_Id": tag}])
    assert client.get("Contacts", res.id)["Last_Name"] == "Getme"
    assert client.get_by_external("Contacts", ext, tag)["id"] == res.id
    assert client.get_by_external("Contacts", ext, tag + "-missing") is None
    assert client.get("Contacts", "999999999999") is None


def test_search_pages_through_matches(client, ext):
    tag = unique("srch")
    client.insert("Contacts", [{"Last_Name": tag, "Clinic_Patient_Id": f"{tag}-{i}"} for i in range(230)])
    found = list(client.search("Contacts", f"(Last_Name:equals:{tag})"))
    assert len(found) == 230 and len({r["id"] for r in found}) == 230
    assert list(client.search("Contacts", f"(Last_Name:equals:{tag}-none)")) == []


def test_iter_records_pages_through_a_module(client, ext):
    tag = unique("iter")
    client.insert("Contacts", contacts(420, tag))
    assert count_by_key(client, "Contacts", ext, tag) == {f"{tag}-{i}": 1 for i in range(420)}
    with pytest.raises(ValueError):
        list(client.iter_records("Contacts", [f"F{i}" for i in range(51)]))


def test_update_by_id_and_by_external_value(client, ext):
    tag = unique("upd")
    ids = [r.id for r in client.insert("Contacts", contacts(3, tag))]
    results = client.update("Contacts", [{"id": ids[0], "First_Name": "Ann"}])
    assert results[0].ok and results[0].action == "update"
    results = client.update("Contacts", [{"Clinic_Patient_Id": f"{tag}-1", "First_Name": "Bo"}], external_field=ext)
    assert results[0].ok and results[0].id == ids[1]
    assert client.get("Contacts", ids[0])["First_Name"] == "Ann"
    assert client.get("Contacts", ids[1])["First_Name"] == "Bo"


def test_upsert_by_external_id_inserts_then_updates(client, ext):
    tag = unique("ups")
    first = client.upsert("Contacts", contacts(120, tag), external_field=ext)
    assert {r.action for r in first} == {"insert"} and all(r.ok for r in first)
    second = client.upsert("Contacts", contacts(120, tag, First_Name="Again"), external_field=ext)
    assert {r.action for r in second} == {"update"}
    assert [r.id for r in second] == [r.id for r in first]
    assert count_by_key(client, "Contacts", ext, tag) == {f"{tag}-{i}": 1 for i in range(120)}


def test_upsert_with_duplicate_check_fields(client, ext):
    tag = unique("dcf")
    a = client.upsert("Contacts", [{"Last_Name": "A", "Clinic_Patient_Id": tag}], duplicate_check_fields=[ext])
    b = client.upsert("Contacts", [{"Last_Name": "B", "Clinic_Patient_Id": tag}], duplicate_check_fields=[ext])
    assert (a[0].action, b[0].action, a[0].id) == ("insert", "update", b[0].id)


def test_delete_chunks_to_100_ids(make_client, ext):
    client, calls = make_client()
    tag = unique("del")
    ids = [r.id for r in client.insert("Contacts", contacts(230, tag))]
    results = client.delete("Contacts", ids)
    assert all(r.ok for r in results) and [r.id for r in results] == ids
    assert [e.record_count for e in calls.of(method="DELETE")] == [100, 100, 30]
    assert count_by_key(client, "Contacts", ext, tag) == {}
