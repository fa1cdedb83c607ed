"""Reading what exists: pagination, COQL, record count, deleted records, If-Modified-Since.
Sources: Zoho's v8 pages (get-records, COQL-Overview, COQL-Limitations, get-deleted-records,
record count) and record.json, coql.json, record_count.json, which validate every answer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

R = "/crm/v8/{module_api_name}"
ERROR_KEYS = {"code", "details", "message", "status"}


@pytest.fixture(scope="module")
def five(zoho, run_id) -> dict[str, str]:
    """Five Contacts of this run: name -> id."""
    names = [f"Page {run_id} {i}" for i in range(5)]
    resp = zoho.post("/crm/v8/Contacts", json={"data": [{"Last_Name": n} for n in names]}, oas="record.json", template=R)
    assert resp.status_code == 201
    return dict(zip(names, (d["details"]["id"] for d in resp.json()["data"])))


def coql(zoho, query: str):
    return zoho.post("/crm/v8/coql", json={"select_query": query}, oas="coql.json", template="/crm/v8/coql")


def test_list_pages_with_page_per_page_and_more_records(zoho, five):
    """Get Records (https://www.zoho.com/crm/developer/docs/api/v8/get-records.html): `fields` is
    mandatory, `page`/`per_page` page the list, info.more_records says whether another page
    exists, and info.next_page_token (record.json Info) leads on."""
    seen: list[str] = []
    params = {"fields": "Last_Name", "per_page": 2, "sort_by": "id", "sort_order": "asc"}
    first = zoho.get("/crm/v8/Contacts", params=params | {"page": 1}, oas="record.json", template=R)
    assert first.status_code == 200
    info = first.json()["info"]
    assert (info["page"], info["per_page"], info["count"], info["more_records"]) == (1, 2, 2, True)
    assert info["next_page_token"]
    page = 1
    while True:
        resp = zoho.get("/crm/v8/Contacts", params=params | {"page": page}, oas="record.json", template=R)
        seen += [r["id"] for r in resp.json()["data"]]
        if not resp.json()["info"]["more_records"]:
            assert "next_page_token" not in resp.json()["info"] or not resp.json()["info"]["next_page_token"]
            break
        page += 1
    assert len(seen) == len(set(seen)) and set(five.values()) <= set(seen)
    token = zoho.get("/crm/v8/Contacts", params={"fields": "Last_Name", "per_page": 2, "page_token": info["next_page_token"]},
                     oas="record.json", template=R)
    assert [r["id"] for r in token.json()["data"]] == seen[2:4]


def test_list_limits_fields_per_page_and_the_2000_record_page_window(zoho):
    """Get Records: `fields` is required (REQUIRED_PARAM_MISSING) and takes at most 50 names;
    `page` reaches only the first 2,000 records, beyond them page_token is
    needed (page 11 of 200 is refused whatever the module holds)."""
    missing = zoho.get("/crm/v8/Contacts", oas="record.json", template=R)
    assert missing.status_code == 400 and missing.json()["code"] == "REQUIRED_PARAM_MISSING"
    fields = zoho.get("/crm/v8/settings/fields", params={"module": "Contacts"}, oas="fields.json",
                      template="/crm/v8/settings/fields").json()["fields"]
    names = [f["api_name"] for f in fields]
    names = (names * 2)[:51]  # a module may hold fewer than 51 fields: some names twice
    over = zoho.get("/crm/v8/Contacts", params={"fields": ",".join(names)}, oas="record.json", template=R)
    assert over.status_code == 400 and set(over.json()) == ERROR_KEYS
    deep = zoho.get("/crm/v8/Contacts", params={"fields": "Last_Name", "per_page": 200, "page": 11}, oas="record.json", template=R)
    assert deep.status_code == 400 and deep.json()["code"] == "DISCRETE_PAGINATION_LIMIT_EXCEEDED"


def test_per_page_takes_at_most_200(zoho):
    """Get Records: per_page at most 200; 201 is a 400 in Zoho's error shape (record.json
    API_Exception, whose details.maximum_length is a string)."""
    big = zoho.get("/crm/v8/Contacts", params={"fields": "Last_Name", "per_page": 201}, oas="record.json", template=R)
    assert big.status_code == 400 and set(big.json()) == ERROR_KEYS


def test_coql_reads_records_by_key_with_id(zoho, five, run_id):
    """COQL (https://www.zoho.com/crm/developer/docs/api/v8/COQL-Overview.html): POST /coql
    `{select_query}` answers `{data, info: {count, more_records}}` with each record's id; `in`
    takes up to 50 values (COQL-Limitations), which is why the loader reads existing keys by COQL."""
    wanted = list(five)[:3]
    values = ", ".join(f"'{n}'" for n in wanted)
    resp = coql(zoho, f"select Last_Name from Contacts where Last_Name in ({values}) limit 200")
    assert resp.status_code == 200
    body = resp.json()
    assert body["info"]["count"] == 3 and body["info"]["more_records"] is False
    assert sorted((r["Last_Name"], r["id"]) for r in body["data"]) == sorted((n, five[n]) for n in wanted)


def test_coql_without_hits_is_204_and_a_bad_query_is_an_error(zoho, run_id):
    """COQL-Overview: no matching record is 204; a query Zoho cannot parse is 400 with the error
    shape (coql.json: SYNTAX_ERROR / INVALID_QUERY); LIMIT beyond 2,000 is refused
    (COQL-Limitations: "Each API call can retrieve a maximum of 2,000 records")."""
    assert coql(zoho, f"select Last_Name from Contacts where Last_Name = 'Nobody {run_id}'").status_code == 204
    bad = coql(zoho, "select from where")
    assert bad.status_code == 400 and set(bad.json()) == ERROR_KEYS
    assert bad.json()["code"] in ("SYNTAX_ERROR", "INVALID_QUERY")
    over = coql(zoho, "select Last_Name from Contacts where Last_Name is not null limit 2001")
    assert over.status_code == 400 and set(over.json()) == ERROR_KEYS


def test_count_answers_the_module_total(zoho, five):
    """Record count (record_count.json GET /crm/v8/{module}/actions/count): `{count}`; it grows
    by what is inserted."""
    path = "/crm/v8/Contacts/actions/count"
    before = zoho.get(path, oas="record_count.json", template="/crm/v8/{module_api_name}/actions/count").json()["count"]
    assert before >= len(five)
    zoho.post("/crm/v8/Contacts", json={"data": [{"Last_Name": "Counted once more"}]}, oas="record.json", template=R)
    after = zoho.get(path, oas="record_count.json", template="/crm/v8/{module_api_name}/actions/count").json()["count"]
    assert after == before + 1


def test_deleted_records_list_what_was_deleted(zoho, run_id):
    """Get List of Deleted Records (https://www.zoho.com/crm/developer/docs/api/v8/get-deleted-records.html;
    record.json GET /{module}/deleted): `type` all/recycle/permanent; each entry has id,
    display_name, type, deleted_by, deleted_time. Not a record id: "deleted" is its own route."""
    made = zoho.post("/crm/v8/Contacts", json={"data": [{"Last_Name": f"Deleted {run_id}"}]}, oas="record.json", template=R)
    rid = made.json()["data"][0]["details"]["id"]
    assert zoho.delete("/crm/v8/Contacts", params={"ids": rid}, oas="record.json", template=R).status_code == 200
    resp = zoho.get("/crm/v8/Contacts/deleted", params={"type": "recycle", "per_page": 200}, oas="record.json",
                    template=R + "/deleted")
    assert resp.status_code == 200
    entry = next(d for d in resp.json()["data"] if d["id"] == rid)
    assert entry["type"] == "recycle" and entry["display_name"] == f"Deleted {run_id}"
    assert entry["deleted_by"]["id"] and datetime.fromisoformat(entry["deleted_time"])


def test_if_modified_since_answers_304_when_nothing_changed(zoho, five):
    """Get Records: the If-Modified-Since header returns only records modified after it; with
    none, 304 Not Modified (Zoho's status codes page; record.json lists the header)."""
    future = (datetime.now(timezone.utc) + timedelta(days=1)).replace(microsecond=0).isoformat()
    resp = zoho.get("/crm/v8/Contacts", params={"fields": "Last_Name"}, headers={"If-Modified-Since": future},
                    oas="record.json", template=R)
    assert resp.status_code == 304
    past = (datetime.now(timezone.utc) - timedelta(days=1)).replace(microsecond=0).isoformat()
    fresh = zoho.get("/crm/v8/Contacts", params={"fields": "Last_Name", "per_page": 200}, headers={"If-Modified-Since": past},
                     oas="record.json", template=R)
    assert fresh.status_code == 200 and set(five.values()) & {r["id"] for r in fresh.json()["data"]}
