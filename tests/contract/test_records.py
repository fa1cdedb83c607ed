"""Record calls as the loader relies on them: status codes, per-record error shapes, limits.
Sources: Zoho's v8 pages (insert, update, delete, search records) and record.json; every answer
is validated against record.json by the `zoho` fixture."""

from __future__ import annotations

import pytest

R = "/crm/v8/{module_api_name}"
ERROR_KEYS = {"code", "details", "message", "status"}


@pytest.fixture(scope="module")
def key_field(zoho, ledger, contract_org) -> str:
    """An External ID text field on Contacts (unique by definition): what the loader keys patients
    by. https://www.zoho.com/crm/developer/docs/api/v8/field-meta.html (external: {type: org})."""
    label = f"C2Z Contract Key {contract_org.run_id}"
    made = zoho.post("/crm/v8/settings/fields", params={"module": "Contacts"}, oas="fields.json", template="/crm/v8/settings/fields",
                     json={"fields": [{"field_label": label, "data_type": "text", "length": 40, "external": {"type": "org"}}]})
    assert made.status_code == 201, made.text
    fields = zoho.get("/crm/v8/settings/fields", params={"module": "Contacts"}, oas="fields.json",
                      template="/crm/v8/settings/fields").json()["fields"]
    field = next(f for f in fields if f["field_label"] == label)
    ledger.fields.append(("Contacts", str(field["id"])))
    return field["api_name"]


def insert(zoho, module: str, records: list[dict]):
    return zoho.post(f"/crm/v8/{module}", json={"data": records}, oas="record.json", template=R)


def test_insert_answers_201_with_one_success_per_record_in_input_order(zoho, run_id):
    """Insert Records (https://www.zoho.com/crm/developer/docs/api/v8/insert-records.html): 201, one
    `{code: SUCCESS, status: success, action: insert, details.id}` per record, in input order."""
    resp = insert(zoho, "Contacts", [{"Last_Name": f"Order {run_id} {i}"} for i in range(3)])
    assert resp.status_code == 201
    data = resp.json()["data"]
    assert [(d["code"], d["status"], d["action"]) for d in data] == [("SUCCESS", "success", "insert")] * 3
    ids = [d["details"]["id"] for d in data]
    assert len(set(ids)) == 3
    names = [zoho.get(f"/crm/v8/Contacts/{i}", oas="record.json", template=R + "/{id}").json()["data"][0]["Last_Name"] for i in ids]
    assert names == [f"Order {run_id} {i}" for i in range(3)]


def test_mixed_batch_answers_207_with_per_record_error_shapes(zoho, run_id):
    """Insert Records: 207 when some records fail; each error is `{code, details, message, status}`
    with details.api_name and details.json_path (`$.data[i].Field`); MANDATORY_NOT_FOUND for a
    missing Last_Name (Contacts' mandatory field), INVALID_DATA with maximum_length for a value
    over the field's length (Last_Name: 80), INVALID_DATA with expected_data_type for a value of
    the wrong type. record.json: API_Exception, Maximum_Length, Expected_DataType."""
    resp = insert(zoho, "Contacts", [
        {"Last_Name": f"Mixed {run_id}"},
        {"First_Name": "No surname"},
        {"Last_Name": "x" * 81},
        {"Last_Name": f"Mixed date {run_id}", "Date_of_Birth": "not a date"},
    ])
    assert resp.status_code == 207
    ok, missing, too_long, wrong_type = resp.json()["data"]
    assert ok["code"] == "SUCCESS"
    for err in (missing, too_long, wrong_type):
        assert set(err) >= ERROR_KEYS and err["status"] == "error"
    assert missing["code"] == "MANDATORY_NOT_FOUND"
    assert missing["details"]["api_name"] == "Last_Name" and missing["details"]["json_path"] == "$.data[1].Last_Name"
    assert too_long["code"] == "INVALID_DATA" and too_long["details"]["api_name"] == "Last_Name"
    assert too_long["details"]["json_path"] == "$.data[2].Last_Name" and int(too_long["details"]["maximum_length"]) == 80
    assert wrong_type["code"] == "INVALID_DATA" and wrong_type["details"]["api_name"] == "Date_of_Birth"
    assert wrong_type["details"]["expected_data_type"] == "date"


def test_duplicate_external_key_is_duplicate_data_naming_the_existing_record(zoho, key_field, run_id):
    """Insert Records: a value already held by a unique field is DUPLICATE_DATA with
    details.api_name, json_path and duplicate_record {id, module, Owner} (record.json
    API_Exception; https://www.zoho.com/crm/developer/docs/api/v8/insert-records.html)."""
    first = insert(zoho, "Contacts", [{"Last_Name": f"Dup {run_id}", key_field: f"K-{run_id}-1"}])
    assert first.status_code == 201
    existing = first.json()["data"][0]["details"]["id"]
    again = insert(zoho, "Contacts", [{"Last_Name": f"Dup again {run_id}", key_field: f"K-{run_id}-1"}])
    assert again.status_code == 400  # the only record failed: no 207
    (err,) = again.json()["data"]
    assert err["code"] == "DUPLICATE_DATA" and err["status"] == "error"
    assert err["details"]["api_name"] == key_field and err["details"]["json_path"] == f"$.data[0].{key_field}"
    dup = err["details"]["duplicate_record"]
    assert str(dup["id"]) == str(existing) and dup["module"]["api_name"] == "Contacts" and dup["Owner"]["id"]


def test_update_answers_200_and_changes_only_the_given_field(zoho, run_id):
    """Update Records (https://www.zoho.com/crm/developer/docs/api/v8/update-records.html): 200 with
    `{code: SUCCESS, action: update}`; fields not sent keep their values."""
    rid = insert(zoho, "Contacts", [{"Last_Name": f"Upd {run_id}", "Phone": "111"}]).json()["data"][0]["details"]["id"]
    resp = zoho.put("/crm/v8/Contacts", json={"data": [{"id": rid, "Phone": "222"}]}, oas="record.json", template=R)
    assert resp.status_code == 200
    assert resp.json()["data"][0]["code"] == "SUCCESS" and resp.json()["data"][0]["action"] == "update"
    got = zoho.get(f"/crm/v8/Contacts/{rid}", oas="record.json", template=R + "/{id}").json()["data"][0]
    assert (got["Phone"], got["Last_Name"]) == ("222", f"Upd {run_id}")


def test_search_without_hits_answers_204_with_no_body(zoho, run_id):
    """Search Records (https://www.zoho.com/crm/developer/docs/api/v8/search-records.html): no
    match is 204 No Content."""
    resp = zoho.get("/crm/v8/Contacts/search", params={"criteria": f"(Last_Name:equals:Nobody {run_id})"},
                    oas="record.json", template=R + "/search")
    assert resp.status_code == 204


def test_search_equals_with_an_escaped_comma(zoho, run_id):
    """Search Records: a comma or parenthesis inside a value is escaped with a backslash
    (`Smith\\, John`); the loader's criteria builder escapes names this way."""
    name = f"Smith, John {run_id}"
    rid = insert(zoho, "Contacts", [{"Last_Name": name}]).json()["data"][0]["details"]["id"]
    escaped = name.replace(",", "\\,")
    resp = zoho.get("/crm/v8/Contacts/search", params={"criteria": f"(Last_Name:equals:{escaped})"},
                    oas="record.json", template=R + "/search")
    assert resp.status_code == 200, "equals with an escaped comma finds nothing"
    assert [r["id"] for r in resp.json()["data"]] == [rid]


def test_search_takes_at_most_ten_criteria(zoho, run_id):
    """Search Records: at most 10 criteria per search (../shared/ZOHO_API.md); the 11th is
    refused as 400 with Zoho's error shape."""
    ten = "and".join(f"(Last_Name:equals:T{run_id}{i})" for i in range(10))
    assert zoho.get("/crm/v8/Contacts/search", params={"criteria": f"({ten})"}, oas="record.json",
                    template=R + "/search").status_code == 204
    eleven = "and".join(f"(Last_Name:equals:T{run_id}{i})" for i in range(11))
    resp = zoho.get("/crm/v8/Contacts/search", params={"criteria": f"({eleven})"}, oas="record.json", template=R + "/search")
    assert resp.status_code == 400 and set(resp.json()) == ERROR_KEYS and resp.json()["status"] == "error"


def test_a_write_takes_at_most_100_records(zoho, run_id):
    """Insert Records: "You can insert up to 100 records in a single API call"; 101 is refused as a
    whole (400 LIMIT_EXCEEDED), nothing written."""
    resp = insert(zoho, "Contacts", [{"Last_Name": f"Over {run_id} {i}"} for i in range(101)])
    assert resp.status_code == 400 and resp.json()["code"] == "LIMIT_EXCEEDED"
    assert zoho.get("/crm/v8/Contacts/search", params={"criteria": f"(Last_Name:equals:Over {run_id} 0)"},
                    oas="record.json", template=R + "/search").status_code == 204


def test_delete_takes_at_most_100_ids_and_answers_one_item_per_id(zoho, run_id):
    """Delete Records (https://www.zoho.com/crm/developer/docs/api/v8/delete-records.html): up to
    100 ids per call, 200 with one item per id ("record deleted"); 101 ids are refused."""
    ids = [d["details"]["id"] for d in insert(zoho, "Contacts", [{"Last_Name": f"Del {run_id} {i}"} for i in range(2)]).json()["data"]]
    resp = zoho.delete("/crm/v8/Contacts", params={"ids": ",".join(ids)}, oas="record.json", template=R)
    assert resp.status_code == 200
    assert [(d["code"], d["details"]["id"]) for d in resp.json()["data"]] == [("SUCCESS", i) for i in ids]
    too_many = ",".join(str(5725767000000000000 + i) for i in range(101))
    refused = zoho.delete("/crm/v8/Contacts", params={"ids": too_many}, oas="record.json", template=R)
    assert refused.status_code == 400 and refused.json()["code"] == "LIMIT_EXCEEDED"


def test_unknown_module_is_invalid_module_at_the_top_level(zoho):
    """record.json API_Exception: INVALID_MODULE "the module name given seems to be invalid",
    answered as the whole body (400), not wrapped in a list."""
    resp = zoho.get("/crm/v8/NoSuchModule", params={"fields": "Last_Name"}, oas="record.json", template=R)
    assert resp.status_code == 400
    assert set(resp.json()) == ERROR_KEYS and resp.json()["code"] == "INVALID_MODULE"


def test_datetimes_take_seconds_and_an_offset_only(zoho, run_id):
    """Zoho's field data types (ZOHO_API.md, from the v8 insert page): a datetime is
    `yyyy-MM-ddTHH:mm:ss±HH:mm`; without an offset, with `Z` or with fractional seconds it is
    INVALID_DATA with expected_data_type datetime, while `+05:30` is taken. Events carry two."""
    def event(start: str) -> dict:
        return {"Event_Title": f"Visit {run_id}", "Start_DateTime": start, "End_DateTime": "2024-01-15T16:26:49+05:30"}

    resp = zoho.post("/crm/v8/Events", json={"data": [event("2024-01-15T15:26:49+05:30"), event("2024-01-15T15:26:49"),
                                                      event("2024-01-15T09:56:49Z"), event("2024-01-15T15:26:49.250+05:30")]},
                     oas="record.json", template=R)
    assert resp.status_code == 207
    ok, *refused = resp.json()["data"]
    assert ok["code"] == "SUCCESS"
    for index, err in enumerate(refused, start=1):
        assert (err["code"], err["details"]["api_name"]) == ("INVALID_DATA", "Start_DateTime"), index
        assert err["details"]["expected_data_type"] == "datetime" and err["details"]["json_path"] == f"$.data[{index}].Start_DateTime"


def test_a_second_contact_with_the_same_email_is_refused_on_insert(zoho, run_id):
    """*Unverified* (docs/zoho_behaviours.md "Credits and uniqueness"; ZOHO_API.md "Insert"):
    the local server refuses an insert whose Email, Contacts' system duplicate-check field, is
    another Contact's (DUPLICATE_DATA naming it), setting insert_checks_default_duplicates. Against
    a sandbox this test settles the point: if it fails there, the org takes the duplicate, and
    the setting's other reading (False) is the org's; the loader keeps every record either way."""
    email = f"family.{run_id}@contract.example"
    first = insert(zoho, "Contacts", [{"Last_Name": f"Parent {run_id}", "Email": email}])
    assert first.status_code == 201
    second = insert(zoho, "Contacts", [{"Last_Name": f"Child {run_id}", "Email": email}])
    (item,) = second.json()["data"]
    assert item["code"] == "DUPLICATE_DATA", "this org takes a duplicate Email on insert: insert_checks_default_duplicates=False"
    assert item["details"]["api_name"] == "Email"
    assert str(item["details"]["duplicate_record"]["id"]) == str(first.json()["data"][0]["details"]["id"])


def test_the_attachment_list_needs_fields(zoho, run_id):
    """attachments.json: GET /{module}/{id}/Attachments requires `fields` (400
    REQUIRED_PARAM_MISSING, a bare error, not wrapped in `data`); with it, a record without
    attachments answers 204."""
    rid = insert(zoho, "Contacts", [{"Last_Name": f"Files {run_id}"}]).json()["data"][0]["details"]["id"]
    base = "/crm/v8/{module}/{record_id}/Attachments"
    bare = zoho.get(f"/crm/v8/Contacts/{rid}/Attachments", oas="attachments.json", template=base)
    assert bare.status_code == 400 and set(bare.json()) == ERROR_KEYS and bare.json()["code"] == "REQUIRED_PARAM_MISSING"
    none = zoho.get(f"/crm/v8/Contacts/{rid}/Attachments", params={"fields": "File_Name"}, oas="attachments.json", template=base)
    assert none.status_code == 204
