"""zoho/reads.py over real HTTP: COQL paging and records by external id (coql.json; the v8 COQL
pages: `in` up to 50 values, LIMIT up to 2,000, a quote doubled), record counts (record_count.json),
deleted records (record.json), profiles (profiles.json)."""

from __future__ import annotations

import pytest

from clinic2zoho.zoho import facts, reads
from clinic2zoho.zoho.existing import find_by_keys
from tests.zoho.conftest import ensure_external_field, unique

pytestmark = pytest.mark.xdist_group("zoho-client-reads")


def insert(server_api, module, rows):
    resp = server_api.post(f"/crm/v8/{module}", json={"data": rows})
    assert resp.status_code == 201, resp.text
    return [d["details"]["id"] for d in resp.json()["data"]]


@pytest.fixture
def api(server):
    from tests.zoho_server.conftest import api_client

    with api_client(server) as client:
        yield client


def test_find_by_keys_finds_120_external_ids_in_three_queries(client, api, server):
    field = ensure_external_field(client, "Contacts", "Clinic_Patient_Id")
    tag = unique("rd")
    keys = [f"{tag}-{i}" for i in range(120)] + [f"{tag}-O'Neil"]
    for start in range(0, len(keys), 100):
        insert(api, "Contacts", [{"Last_Name": f"P{k}", field: k} for k in keys[start:start + 100]])
    server.calls(reset=True)
    found = find_by_keys(client, "Contacts", field, keys + [f"{tag}-missing"], select=["Last_Name"])
    assert set(found) == set(keys) and found[f"{tag}-O'Neil"]["Last_Name"] == f"P{tag}-O'Neil"
    assert server.calls()["by_op"].get("coql") == 3  # 121 values, 50 a query


def test_coql_pages_with_offset_until_no_more_records(client, api):
    tag = unique("pg")
    insert(api, "Products", [{"Product_Name": f"{tag}-{i:02d}"} for i in range(25)])
    rows = list(reads.coql(client, f"select Product_Name from Products where Product_Name like '{tag}-%'", page_size=10))
    assert sorted(r["Product_Name"] for r in rows) == [f"{tag}-{i:02d}" for i in range(25)]
    assert list(reads.coql(client, "select Product_Name from Products where Product_Name = 'nothing-here'")) == []


def test_count_deleted_and_profiles(client, api):
    before = reads.record_count(client, "Tasks")
    ids = insert(api, "Tasks", [{"Subject": "Counted"}, {"Subject": "Deleted"}])
    assert reads.record_count(client, "Tasks") == before + 2
    assert api.delete(f"/crm/v8/Tasks/{ids[1]}").status_code == 200
    gone = list(reads.deleted_records(client, "Tasks"))
    assert ids[1] in {d["id"] for d in gone} and ids[0] not in {d["id"] for d in gone}
    assert {"Administrator", "Standard"} <= {p["name"] for p in client.profiles()}


def test_quote_doubles_inner_quotes():
    assert reads.quote("O'Neil") == "'O''Neil'"
    assert [facts.coql_credits(n) for n in (200, 201, 1000, 1001, 2000)] == [1, 2, 2, 3, 3]
