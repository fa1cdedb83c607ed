"""COQL (`POST /crm/v8/coql`) over real HTTP, against Zoho's coql.json and its v8 COQL pages
(COQL-Overview: clauses, LIMIT default 200 / max 2,000, credits by LIMIT, id order; COQL-Limitations:
criteria in pairs, 100,000 records reachable, `in` up to 50 values, duplicate ORDER BY field)."""

from __future__ import annotations

import pytest

from clinic2zoho.zoho_server import coql
from tests.zoho_server.conftest import add_external_field, api_client
from tests.zoho_server.oas import OAS_DIR, Conformance, prepare

pytestmark = pytest.mark.xdist_group("zoho_coql")

PATIENTS = [("Ames", "cq-1", "ames@x.example"), ("Burns", "cq-2", None), ("O'Brien", "cq-3", "ob@x.example"),
            ("Burnside", "cq-4", None), ("Carter", "cq-5", "carter@x.example")]


@pytest.fixture(scope="module")
def seeded(shared_server):
    with api_client(shared_server) as client:
        add_external_field(client, "Contacts", "Clinic Patient Id")
        acc = client.post("/crm/v8/Accounts", json={"data": [{"Account_Name": "COQL Clinic"}]}).json()["data"][0]["details"]["id"]
        rows = [{"Last_Name": n, "Clinic_Patient_Id": k, **({"Email": e} if e else {}),
                 **({"Account_Name": {"id": acc}} if n.startswith("Burns") else {})} for n, k, e in PATIENTS]
        resp = client.post("/crm/v8/Contacts", json={"data": rows})
        assert resp.status_code == 201, resp.text
        ids = {n: d["details"]["id"] for (n, _, _), d in zip(PATIENTS, resp.json()["data"])}
        return {"account": acc, "ids": ids}


def query(api, text):
    return api.post("/crm/v8/coql", json={"select_query": text})


def test_in_on_external_ids_answers_the_matching_records_with_id(sapi, seeded):
    resp = query(sapi, "select Last_Name, Clinic_Patient_Id from Contacts where Clinic_Patient_Id in ('cq-1','cq-3') limit 200")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["info"] == {"count": 2, "more_records": False}
    assert sorted((r["Last_Name"], r["Clinic_Patient_Id"]) for r in body["data"]) == [("Ames", "cq-1"), ("O'Brien", "cq-3")]
    assert {r["id"] for r in body["data"]} == {seeded["ids"]["Ames"], seeded["ids"]["O'Brien"]}


def test_operators_of_the_coql_pages(sapi, seeded):
    def names(where):
        resp = query(sapi, f"select Last_Name from Contacts where {where}")
        assert resp.status_code in (200, 204), resp.text
        return sorted(r["Last_Name"] for r in resp.json()["data"]) if resp.status_code == 200 else []

    mine = "Clinic_Patient_Id like 'cq-%'"
    assert names(f"({mine} and Last_Name = 'Burns')") == ["Burns"]
    assert names(f"({mine} and Last_Name != 'Burns')") == ["Ames", "Burnside", "Carter", "O'Brien"]
    assert names(f"({mine} and Last_Name like 'Burn%')") == ["Burns", "Burnside"]
    assert names(f"({mine} and Last_Name like '%side')") == ["Burnside"]
    assert names(f"({mine} and Last_Name not in ('Ames', 'Carter'))") == ["Burns", "Burnside", "O'Brien"]
    assert names(f"({mine} and Email is null)") == ["Burns", "Burnside"]
    assert names(f"({mine} and Email is not null)") == ["Ames", "Carter", "O'Brien"]
    assert names("Last_Name = 'O''Brien'") == ["O'Brien"]  # a quote doubled (Zoho's COQL FAQ)
    assert names(f"(({mine} and Email is null) or Last_Name = 'Carter')") == ["Burns", "Burnside", "Carter"]
    assert names(f"Account_Name.id = '{seeded['account']}'") == ["Burns", "Burnside"]
    assert names(f"(Account_Name.Account_Name = 'COQL Clinic' and Last_Name like '%side')") == ["Burnside"]
    owner = sapi.get("/crm/v8/users", params={"type": "CurrentUser"}).json()["users"][0]["id"]
    assert names(f"({mine} and Owner.id = '{owner}')") == ["Ames", "Burns", "Burnside", "Carter", "O'Brien"]


def test_limit_offset_order_and_paging(sapi, seeded):
    base = "select Last_Name from Contacts where Clinic_Patient_Id like 'cq-%'"
    first = query(sapi, base + " order by Last_Name desc limit 2").json()
    assert [r["Last_Name"] for r in first["data"]] == ["O'Brien", "Carter"] and first["info"]["more_records"] is True
    # "LIMIT offset, count" and "LIMIT count OFFSET offset" are the same page
    a = query(sapi, base + " order by Last_Name limit 2, 2").json()
    b = query(sapi, base + " order by Last_Name limit 2 offset 2").json()
    assert [r["Last_Name"] for r in a["data"]] == [r["Last_Name"] for r in b["data"]] == ["Burnside", "Carter"]
    last = query(sapi, base + " limit 4, 2").json()
    assert last["info"] == {"count": 1, "more_records": False}
    # no ORDER BY: ascending id (COQL-Overview)
    ids = [r["id"] for r in query(sapi, base).json()["data"]]
    assert ids == sorted(ids, key=int) and len(ids) == 5
    assert query(sapi, base + " limit 10, 5").status_code == 204


def test_credits_follow_the_limit(sapi, shared_server, seeded):
    base = "select Last_Name from Contacts where Clinic_Patient_Id = 'cq-1' limit "
    for limit, credits in ((200, 1), (201, 2), (1000, 2), (1001, 3), (2000, 3)):  # COQL-Overview's table
        before = shared_server.credits()["used"]
        assert query(sapi, base + str(limit)).status_code == 200
        assert shared_server.credits()["used"] - before == credits, limit


@pytest.mark.parametrize("text, code, detail", [
    ("select Last_Name from Contacts where Last_Name = 'a' limit 2001", "LIMIT_EXCEEDED", None),
    ("select Last_Name from Contacts where Last_Name = 'a' limit 99000, 2000", "LIMIT_EXCEEDED", None),
    ("select Last_Name Contacts where Last_Name = 'a'", "SYNTAX_ERROR", None),
    ("select Last_Name from Contacts where Last_Name = 'a' and Email = 'b' and First_Name = 'c'", "SYNTAX_ERROR", None),
    ("select Last_Name from Contacts where Last_Name == 'a'", "SYNTAX_ERROR", None),
    ("select Nope from Contacts where Last_Name = 'a'", "INVALID_QUERY", "column given seems to be invalid"),
    ("select Last_Name from Contacts where Description = 'a'", "INVALID_QUERY", "data type not supported"),
    ("select Last_Name from Contacts where Email_Opt_Out = 'maybe'", "INVALID_QUERY", "value given seems to be invalid for the column"),
    ("select Last_Name from Contacts where id is not null order by id, id", "DUPLICATE_DATA", None),
    ("select Last_Name from Nowhere where Last_Name = 'a'", "INVALID_QUERY", None),
])
def test_errors_answer_zoho_codes(sapi, seeded, text, code, detail):
    resp = query(sapi, text)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["code"] == code and body["status"] == "error"
    if detail:
        assert body["message"] == detail


def test_in_takes_at_most_fifty_values_and_where_counts_twenty_five_criteria(sapi, seeded):
    values = ",".join(f"'v{i}'" for i in range(51))
    assert query(sapi, f"select Last_Name from Contacts where Last_Name in ({values})").json()["code"] == "LIMIT_EXCEEDED"
    cond = "Last_Name = 'x'"
    for _ in range(25):  # 26 criteria, bracketed in pairs
        cond = f"({cond} or Last_Name = 'y')"
    assert query(sapi, f"select Last_Name from Contacts where {cond}").json()["code"] == "LIMIT_EXCEEDED"


def test_missing_select_query_is_mandatory_not_found(sapi):
    resp = sapi.post("/crm/v8/coql", json={})
    assert resp.status_code == 400 and resp.json()["code"] == "MANDATORY_NOT_FOUND"


def test_parser_is_not_eval():
    with pytest.raises(coql.CoqlError):
        coql.parse("select __import__('os') from Contacts where id is not null")
    query_, criteria = coql.parse("SELECT a, b.id FROM M WHERE ((a = 1 AND b.id IN ('1', '2')) OR c IS NOT NULL) LIMIT 5 OFFSET 10")
    assert (query_.columns, query_.module, query_.limit, query_.offset, criteria) == (["a", "b.id"], "M", 5, 10, 3)


@pytest.mark.skipif(not OAS_DIR.is_dir(), reason="Zoho's OAS files are not in the shared folder")
def test_answers_match_coql_json(sapi, seeded, tmp_path):
    oas = Conformance(prepare(tmp_path / "oas"))
    ok = query(sapi, "select Last_Name, Account_Name, Owner from Contacts where Clinic_Patient_Id in ('cq-2','cq-4')")
    assert ok.status_code == 200 and ok.json()["data"][0]["Account_Name"] == {"id": seeded["account"]}
    oas.check("coql.json", "POST", "/crm/v8/coql", "/crm/v8/coql", 200, ok.json())
    for bad in ("select Last_Name from Contacts where", "select Nope from Contacts where id is not null",
                "select Last_Name from Contacts where id is not null limit 5000"):
        resp = query(sapi, bad)
        oas.check("coql.json", "POST", "/crm/v8/coql", "/crm/v8/coql", resp.status_code, resp.json())


def test_official_sdk_parses_coql_answers_and_errors(shared_server, seeded, tmp_path):
    pytest.importorskip("zohocrmsdk")
    from zohocrmsdk.src.com.zoho.crm.api.coql import APIException, BodyWrapper, CoqlOperations, ResponseWrapper

    from tests.zoho_server.sdk import initialize

    initialize(shared_server, tmp_path)

    def run(text):
        body = BodyWrapper()
        body.set_select_query(text)
        return CoqlOperations().get_records(body)

    ok = run("select Last_Name, Account_Name from Contacts where Clinic_Patient_Id in ('cq-2', 'cq-4') order by Last_Name")
    assert ok.get_status_code() == 200 and isinstance(ok.get_object(), ResponseWrapper)
    records = ok.get_object().get_data()
    assert [r.get_key_value("Last_Name") for r in records] == ["Burns", "Burnside"]
    assert ok.get_object().get_info().get_more_records() is False
    bad = run("select Nope from Contacts where id is not null")
    assert bad.get_status_code() == 400 and isinstance(bad.get_object(), APIException)
    assert bad.get_object().get_code().get_value() == "INVALID_QUERY"
