"""Each injected fault of the local server is survived, and no record is written twice."""

from __future__ import annotations

import pytest

from clinic2zoho.zoho import ZohoTransientError
from tests.zoho.conftest import contacts, count_by_key, ensure_external_field, unique


@pytest.fixture
def ext(client) -> str:
    return ensure_external_field(client)


def landed_once(zoho_server, client, ext, tag, n) -> bool:
    zoho_server.settings(faults={"error_5xx_rate": 0.0, "error_5xx_after_write_rate": 0.0, "drop_rate": 0.0,
                                 "expire_token_rate": 0.0, "latency_ms": 0})
    return count_by_key(client, "Contacts", ext, tag) == {f"{tag}-{i}": 1 for i in range(n)}



@pytest.fixture
def server(zoho_server):
    """A fresh server per test: these tests change its settings or clock."""
    return zoho_server

def test_server_errors_before_and_after_writes_leave_no_duplicates(zoho_server, make_client, ext):
    client, calls = make_client()
    zoho_server.settings(faults={"error_5xx_rate": 0.2, "error_5xx_after_write_rate": 0.2, "seed": 11})
    tag = unique("f5xx")
    results = client.insert("Contacts", contacts(500, tag), external_field=ext)
    assert all(r.ok for r in results) and len({r.id for r in results}) == 500
    assert calls.of(outcome="transient")  # the faults did happen
    assert landed_once(zoho_server, client, ext, tag, 500)


def test_dropped_connections_are_read_back_not_resent(zoho_server, make_client, ext):
    client, calls = make_client()
    zoho_server.settings(faults={"drop_rate": 0.3, "seed": 1})
    tag = unique("fdrop")
    results = client.insert("Contacts", contacts(400, tag), external_field=ext)
    assert all(r.ok for r in results)
    assert any(r.details.get("read_back") for r in results)  # some landed while their answer was lost
    assert landed_once(zoho_server, client, ext, tag, 400)


def test_read_back_by_search_on_a_unique_key(zoho_server, make_client, ext):
    client, _ = make_client()
    zoho_server.settings(faults={"error_5xx_after_write_rate": 0.5, "seed": 3})
    tag = unique("fsrch")
    results = client.insert("Contacts", contacts(200, tag), key_field=ext)
    assert all(r.ok for r in results)
    assert landed_once(zoho_server, client, ext, tag, 200)


def test_an_insert_with_unknown_outcome_and_no_key_is_not_resent(zoho_server, make_client):
    client, calls = make_client()
    zoho_server.settings(faults={"error_5xx_after_write_rate": 1.0})
    with pytest.raises(ZohoTransientError) as info:
        client.insert("Contacts", [{"Last_Name": "Once"}])
    assert info.value.outcome_unknown
    assert len(calls.of(method="POST", path="/crm/v8/Contacts")) == 1


def test_notes_and_deletes_survive_dropped_answers(zoho_server, make_client, ext):
    client, _ = make_client()
    tag = unique("fnote")
    ids = [r.id for r in client.insert("Contacts", contacts(120, tag))]
    zoho_server.settings(faults={"drop_rate": 0.4, "seed": 9})
    notes = [{"Note_Title": f"[n:{tag}-{i}]", "Note_Content": "c",
              "Parent_Id": {"module": {"api_name": "Contacts"}, "id": ids[i % 3]}} for i in range(150)]
    assert all(r.ok for r in client.add_notes(notes))
    assert all(r.ok for r in client.delete("Contacts", ids[3:]))
    zoho_server.settings(faults={"drop_rate": 0.0})
    titles = [n["Note_Title"] for pid in ids[:3] for n in client.notes("Contacts", pid)]
    assert sorted(titles) == sorted(n["Note_Title"] for n in notes)
    assert count_by_key(client, "Contacts", ext, tag) == {f"{tag}-{i}": 1 for i in range(3)}


def test_latency_is_waited_out(zoho_server, make_client, ext):
    client, _ = make_client()
    zoho_server.settings(faults={"latency_ms": 150})
    tag = unique("flat")
    assert all(r.ok for r in client.upsert("Contacts", contacts(30, tag), external_field=ext))


def test_tokens_revoked_early_are_renewed(zoho_server, make_client, ext):
    client, calls = make_client()
    zoho_server.settings(faults={"expire_token_rate": 0.3, "seed": 2})
    tag = unique("ftok")
    for i in range(10):
        assert client.get_by_external("Contacts", ext, f"{tag}-none") is None
    assert all(r.ok for r in client.insert("Contacts", contacts(50, tag), external_field=ext))
    assert calls.of(outcome="auth") and client.token_refreshes > 1
    assert landed_once(zoho_server, client, ext, tag, 50)


def test_bulk_write_survives_server_errors(zoho_server, make_client, ext):
    client, _ = make_client()
    zoho_server.settings(faults={"error_5xx_rate": 0.3, "seed": 4})
    tag = unique("fbulk")
    with client.bulk_write("Contacts", contacts(100, tag), ["Last_Name", "Clinic_Patient_Id"],
                           operation="upsert", find_by=ext) as result:
        assert result.ok and all(r.ok for r in result.rows())
    assert landed_once(zoho_server, client, ext, tag, 100)


def test_field_delete_and_picklist_removal_whose_answer_is_lost_are_read_back(zoho_server, make_client):
    client, calls = make_client()
    field = client.create_field("Leads", {"field_label": "Lost Answer", "data_type": "picklist",
                                          "pick_list_values": [{"display_value": "A", "actual_value": "A"}]})
    client.add_picklist_values("Leads", field["api_name"], ["B"])
    zoho_server.settings(faults={"error_5xx_after_write_rate": 1.0})
    calls.events.clear()
    after = client.remove_picklist_values("Leads", field["api_name"], ["B"])
    assert [v["actual_value"] for v in after["pick_list_values"]] == ["A"]
    assert len(calls.of(method="PATCH")) == 1  # applied once; the read-back saw it done
    result = client.delete_field("Leads", field["api_name"])
    assert result.ok and result.details.get("read_back")
    assert len(calls.of(method="DELETE")) == 1
    zoho_server.settings(faults={"error_5xx_after_write_rate": 0.0})
    assert client.field("Leads", field["api_name"]) is None
