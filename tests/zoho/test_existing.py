"""Reading what exists by key: COQL, 50 keys a call, where searches take 10 a call; search again
when COQL is refused. Counted on the local server's own call log (GET /__admin/calls).

Zoho's limits: COQL `in` up to 50 values (COQL limitations page), search up to 10 criteria
(search-records page), a listing 200 records a page (get-records page)."""

from __future__ import annotations

import math

from clinic2zoho.loader.resolve import Crosswalk
from clinic2zoho.zoho import ZohoClient
from clinic2zoho.zoho.existing import by_keys_is_cheaper, find_by_keys
from tests.zoho.conftest import Recorder, config_for

KEYS = [f"P{i:04d}" for i in range(1, 121)]


def _org(server) -> ZohoClient:
    client = ZohoClient(config_for(server))
    client.create_field("Contacts", {"field_label": "Clinic Patient Id", "data_type": "text", "length": 64,
                                     "external": {"type": "org"}})
    results = client.insert("Contacts", [{"Last_Name": f"Patient {k}", "Clinic_Patient_Id": k} for k in KEYS])
    assert all(r.ok for r in results)
    return client


def _calls(server) -> list[tuple[str, str]]:
    return [(c["method"], c["path"]) for c in server.calls()["calls"]]


def test_coql_reads_100_keys_in_a_fifth_of_the_searches(zoho_server):
    wanted = KEYS[:100] + ["P9998", "P9999"]  # two keys Zoho does not hold
    with _org(zoho_server) as client:
        zoho_server.calls(reset=True)
        found = find_by_keys(client, "Contacts", "Clinic_Patient_Id", wanted)
        coql_calls = _calls(zoho_server)
        client._coql_refused = {"Contacts"}  # as after a refusal: the search path
        zoho_server.calls(reset=True)
        searched = find_by_keys(client, "Contacts", "Clinic_Patient_Id", wanted)
        search_calls = _calls(zoho_server)
    assert set(found) == set(KEYS[:100]) == set(searched)
    assert {r["id"] for r in found.values()} == {r["id"] for r in searched.values()}
    assert coql_calls == [("POST", "/crm/v8/coql")] * math.ceil(len(wanted) / 50)  # 3
    assert search_calls == [("GET", "/crm/v8/Contacts/search")] * math.ceil(len(wanted) / 10)  # 11
    print(f"\n102 keys read back: {len(coql_calls)} COQL calls, {len(search_calls)} searches")


def test_a_refused_query_falls_back_to_search(zoho_server):
    with _org(zoho_server) as client:
        zoho_server.calls(reset=True)
        # COQL cannot filter on a multi-line field (Zoho's COQL limitations): INVALID_QUERY, then search
        client.create_field("Contacts", {"field_label": "Intake Text", "data_type": "textarea"})
        zoho_server.calls(reset=True)
        found = find_by_keys(client, "Contacts", "Intake_Text", ["a", "b"])
        calls = _calls(zoho_server)
    assert found == {}
    assert calls[0] == ("POST", "/crm/v8/coql") and calls[1:] == [("GET", "/crm/v8/Contacts/search")]


def test_scan_or_keys_by_the_module_size(zoho_server):
    with _org(zoho_server) as client:
        # 120 records list in 1 page of 200: 3 keys by COQL cost as much, so the scan stays
        assert not by_keys_is_cheaper(client, "Contacts", 3)
        client.insert("Contacts", [{"Last_Name": f"More {i}", "Clinic_Patient_Id": f"M{i}"} for i in range(400)])
        # 520 records: 3 pages; 60 keys: 2 COQL calls
        assert by_keys_is_cheaper(client, "Contacts", 60) and not by_keys_is_cheaper(client, "Contacts", 150)


def test_crosswalk_without_a_journal_reads_lookups_in_one_query(zoho_server, tmp_path):
    with _org(zoho_server) as client:
        crosswalk = Crosswalk(tmp_path / "journal", client, {"Contacts": "Clinic_Patient_Id"}, "org")
        zoho_server.calls(reset=True)
        crosswalk.prefetch("Contacts", KEYS[:40] + ["P9999"])
        ids = {k: crosswalk.resolve("Contacts", k) for k in KEYS[:40] + ["P9999"]}
        calls = _calls(zoho_server)
    assert calls == [("POST", "/crm/v8/coql")]  # before: one GET by external id per key (41)
    assert ids["P9999"] is None and all(ids[k] for k in KEYS[:40])


def test_a_grant_without_the_coql_scope_reads_by_search(zoho_server):
    """COQL needs ZohoCRM.coql.READ (Get-Records-through-COQL page); without it Zoho answers 401
    OAUTH_SCOPE_MISMATCH, and the read goes by search for the rest of the client's life."""
    from clinic2zoho.zoho.scopes import REQUIRED_SCOPES

    with _org(zoho_server):
        pass
    zoho_server.settings(granted_scopes=[s for s in REQUIRED_SCOPES if s != "ZohoCRM.coql.READ"])
    seen = Recorder()  # the client's own call events: the server logs no call it refused for its scope
    with ZohoClient(config_for(zoho_server), on_call=seen) as client:
        first = find_by_keys(client, "Contacts", "Clinic_Patient_Id", KEYS[:20])
        again = find_by_keys(client, "Contacts", "Clinic_Patient_Id", KEYS[20:30])
    assert set(first) == set(KEYS[:20]) and set(again) == set(KEYS[20:30])
    refused = seen.of(path="/crm/v8/coql")
    assert [(e.status, e.code) for e in refused] == [(401, "OAUTH_SCOPE_MISMATCH")]
    assert len(seen.of(method="GET", path="/crm/v8/Contacts/search")) == 3  # 2 + 1 searches of 10 keys
