"""The official Zoho Python SDK (PyPI zohocrmsdk8-0) against the local server: the independent check
that the server speaks Zoho's dialect. Insert, read and delete a Contact; upload a bulk-write zip
and run a job to completion; read by COQL, count, list deleted records, search with an escaped
comma, read layouts, profiles, roles, users and a record's related notes. Each answer must come
back as the SDK's typed object (no SDKException, no APIException)."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from tests.zoho_server.conftest import api_client
from tests.zoho_server.oas import OAS_DIR, Conformance, prepare

pytestmark = pytest.mark.xdist_group("zoho_sdk")

sdk = pytest.importorskip("zohocrmsdk")

from tests.zoho_server.sdk import initialize as sdk_on  # noqa: E402

from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.bulk_write import (  # noqa: E402
    BulkWriteOperations, FieldMapping, FileBodyWrapper, RequestWrapper, Resource,
)
from zohocrmsdk.src.com.zoho.crm.api.bulk_write import SuccessResponse as BulkSuccess  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.bulk_write.bulk_write_operations import UploadFileHeader  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.modules import MinifiedModule  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.record import (  # noqa: E402
    ActionWrapper, BodyWrapper, Field, Record, RecordOperations, ResponseWrapper, SuccessResponse,
)
from zohocrmsdk.src.com.zoho.crm.api.record.record_operations import DeleteRecordsParam  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.util import Choice, StreamWrapper  # noqa: E402


R = "/crm/v8/{module_api_name}"


@pytest.fixture(scope="module")
def oas(tmp_path_factory):
    if not OAS_DIR.is_dir():
        pytest.skip("Zoho's OAS files are not in the shared folder")
    return Conformance(prepare(tmp_path_factory.mktemp("zoho-oas-sdk")))


@pytest.fixture
def sdk_session(zoho_server, tmp_path):
    return sdk_on(zoho_server, tmp_path)


def test_sdk_inserts_reads_and_deletes_a_contact(sdk_session, oas):
    ops = RecordOperations("Contacts")
    record = Record()
    record.add_field_value(Field.Contacts.last_name(), "Sdk Patient")
    record.add_field_value(Field.Contacts.email(), "sdk.patient@clinic.example")
    body = BodyWrapper()
    body.set_data([record])
    created = ops.create_records(body, HeaderMap())
    assert created.get_status_code() == 201
    oas.check("record.json", "POST", "/crm/v8/Contacts", R, 201, created.get_response_json())
    action = created.get_object()
    assert isinstance(action, ActionWrapper)
    (result,) = action.get_data()
    assert isinstance(result, SuccessResponse), result.get_message().get_value()
    assert result.get_code().get_value() == "SUCCESS"
    record_id = int(result.get_details()["id"])

    fetched = ops.get_record(record_id, ParameterMap(), HeaderMap())
    assert fetched.get_status_code() == 200
    oas.check("record.json", "GET", f"/crm/v8/Contacts/{record_id}", R + "/{id}", 200, fetched.get_response_json())
    wrapper = fetched.get_object()
    assert isinstance(wrapper, ResponseWrapper)
    got = wrapper.get_data()[0]
    assert got.get_key_value("Last_Name") == "Sdk Patient"
    assert got.get_key_value("Email") == "sdk.patient@clinic.example"

    params = ParameterMap()
    params.add(DeleteRecordsParam.ids, str(record_id))
    deleted = ops.delete_records(params, HeaderMap())
    assert deleted.get_status_code() == 200
    oas.check("record.json", "DELETE", "/crm/v8/Contacts", R, 200, deleted.get_response_json(), {"ids": str(record_id)})
    assert deleted.get_object().get_data()[0].get_code().get_value() == "SUCCESS"
    assert ops.get_record(record_id, ParameterMap(), HeaderMap()).get_status_code() == 204


def test_sdk_uploads_a_bulk_write_zip_and_runs_the_job_to_completion(sdk_session, tmp_path, oas):
    csv_text = "Last_Name,Email\n" + "\n".join(f"Bulk {i},bulk{i}@sdk.example" for i in range(20)) + "\n"
    zip_path = tmp_path / "contacts.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("contacts.csv", csv_text)
    zip_path.write_bytes(buf.getvalue())

    ops = BulkWriteOperations()
    file_body = FileBodyWrapper()
    file_body.set_file(StreamWrapper(file_path=str(zip_path)))
    headers = HeaderMap()
    headers.add(UploadFileHeader.feature, "bulk-write")
    headers.add(UploadFileHeader.x_crm_org, sdk_session.zgid)
    uploaded = ops.upload_file(file_body, headers)
    assert uploaded.get_status_code() == 200
    oas.check("bulk_write.json", "POST", "/crm/v8/upload", "/crm/v8/upload", 200, uploaded.get_response_json())
    upload_result = uploaded.get_object()
    assert isinstance(upload_result, BulkSuccess), upload_result.get_message()
    file_id = upload_result.get_details()["file_id"]

    request = RequestWrapper()
    request.set_operation(Choice("insert"))
    resource = Resource()
    resource.set_type(Choice("data"))
    module = MinifiedModule()
    module.set_api_name("Contacts")
    resource.set_module(module)
    resource.set_file_id(str(file_id))
    resource.set_ignore_empty(True)
    mappings = []
    for index, name in enumerate(["Last_Name", "Email"]):
        mapping = FieldMapping()
        mapping.set_api_name(name)
        mapping.set_index(index)
        mappings.append(mapping)
    resource.set_field_mappings(mappings)
    request.set_resource([resource])
    job = ops.create_bulk_write_job(request)
    assert job.get_status_code() == 201
    oas.check("bulk_write.json", "POST", "/crm/bulk/v8/write", "/crm/bulk/v8/write", 201, job.get_response_json())
    job_id = str(job.get_object().get_details()["id"])

    deadline = time.monotonic() + 30
    while True:
        answer = ops.get_bulk_write_job_details(job_id)
        oas.check("bulk_write.json", "GET", f"/crm/bulk/v8/write/{job_id}", "/crm/bulk/v8/write/{job_id}", 200,
                  answer.get_response_json())
        details = answer.get_object()
        status = details.get_status()
        if status in ("COMPLETED", "FAILED") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status == "COMPLETED"
    file_info = details.get_resource()[0].get_file()
    assert (file_info.get_added_count(), file_info.get_total_count()) == (20, 20)
    download = ops.download_bulk_write_result(details.get_result().get_download_url())
    assert download.get_status_code() == 200


# ---- the reads a migration makes, on one org for the module (each test initialises the SDK) -------
from zohocrmsdk.src.com.zoho.crm.api.coql import BodyWrapper as CoqlBody  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.coql import CoqlOperations  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.coql import ResponseWrapper as CoqlResponse  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.layouts import LayoutsOperations  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.layouts import ResponseWrapper as LayoutsResponse  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.layouts.layouts_operations import GetLayoutsParam  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.profiles import ProfilesOperations  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.profiles import ResponseWrapper as ProfilesResponse  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.record import CountWrapper, DeletedRecordsWrapper  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.record.record_operations import (  # noqa: E402
    GetDeletedRecordsParam, SearchRecordsParam,
)
from zohocrmsdk.src.com.zoho.crm.api.related_records import RelatedRecordsOperations  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.related_records import ResponseWrapper as RelatedResponse  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.related_records.related_records_operations import GetRelatedRecordsParam  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.roles import ResponseWrapper as RolesResponse  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.roles import RolesOperations  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.users import ResponseWrapper as UsersResponse  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.users import UsersOperations  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.users.users_operations import GetUsersParam  # noqa: E402


@pytest.fixture
def sdk_shared(shared_server, tmp_path, oas):
    """The SDK on the module's shared org (its tests use their own record names); `.oas` checks
    the JSON each answer carried against Zoho's OAS file."""
    sdk_on(shared_server, tmp_path)
    shared_server.oas = oas
    return shared_server


def sdk_insert(module: str, *values: dict) -> list[int]:
    records = []
    for fields in values:
        record = Record()
        for name, value in fields.items():
            record.add_key_value(name, value)
        records.append(record)
    body = BodyWrapper()
    body.set_data(records)
    answer = RecordOperations(module).create_records(body, HeaderMap())
    assert answer.get_status_code() == 201
    results = answer.get_object().get_data()
    assert all(isinstance(r, SuccessResponse) for r in results), [r.get_code().get_value() for r in results]
    return [int(r.get_details()["id"]) for r in results]


def parsed(org, answer, kind, spec: str, method: str, path: str, template: str | None = None):
    """The SDK's typed object for a 200 answer (an APIException or a raw dict would mean it could
    not read Zoho's dialect), the answer's JSON checked against `spec` first."""
    assert answer.get_status_code() == 200, answer.get_status_code()
    org.oas.check(spec, method, path, template or path, 200, answer.get_response_json())
    obj = answer.get_object()
    assert isinstance(obj, kind), type(obj)
    return obj


def test_sdk_reads_by_coql(sdk_shared):
    """QueryOperations / CoqlOperations.get_records (Zoho's COQL page): typed records with id."""
    ids = sdk_insert("Contacts", {"Last_Name": "Coql Sdk A"}, {"Last_Name": "Coql Sdk B"})
    body = CoqlBody()
    body.set_select_query("select Last_Name from Contacts where Last_Name in ('Coql Sdk A', 'Coql Sdk B') limit 10")
    got = parsed(sdk_shared, CoqlOperations().get_records(body), CoqlResponse, "coql.json", "POST", "/crm/v8/coql")
    assert sorted((r.get_key_value("Last_Name"), int(r.get_id())) for r in got.get_data()) == \
        [("Coql Sdk A", ids[0]), ("Coql Sdk B", ids[1])]
    assert got.get_info().get_count() == 2 and got.get_info().get_more_records() is False


def test_sdk_counts_records_and_lists_deleted_ones(sdk_shared):
    """RecordOperations.record_count (GET /{module}/actions/count) and get_deleted_records
    (GET /{module}/deleted): CountWrapper and DeletedRecordsWrapper."""
    ops = RecordOperations("Products")
    before = parsed(sdk_shared, ops.record_count(ParameterMap()), CountWrapper, "record.json", "GET", "/crm/v8/Products/actions/count",
                    "/crm/v8/{module_api_name}/actions/count").get_count()
    (gone, _kept) = sdk_insert("Products", {"Product_Name": "Sdk Gone"}, {"Product_Name": "Sdk Kept"})
    assert parsed(sdk_shared, ops.record_count(ParameterMap()), CountWrapper, "record.json", "GET", "/crm/v8/Products/actions/count",
                    "/crm/v8/{module_api_name}/actions/count").get_count() == before + 2
    params = ParameterMap()
    params.add(DeleteRecordsParam.ids, str(gone))
    assert ops.delete_records(params, HeaderMap()).get_status_code() == 200
    query = ParameterMap()
    query.add(GetDeletedRecordsParam.type, "all")
    deleted = parsed(sdk_shared, ops.get_deleted_records(query, HeaderMap()), DeletedRecordsWrapper, "record.json", "GET",
                     "/crm/v8/Products/deleted", "/crm/v8/{module_api_name}/deleted").get_data()
    entry = next(d for d in deleted if int(d.get_id()) == gone)
    assert entry.get_display_name() == "Sdk Gone" and entry.get_type() == "recycle"


def test_sdk_searches_with_an_escaped_comma(sdk_shared):
    """search_records with criteria `(Last_Name:equals:Smith\\, John)` (Zoho's search page:
    commas inside a value are escaped)."""
    (rid,) = sdk_insert("Contacts", {"Last_Name": "Smith, John"})
    params = ParameterMap()
    params.add(SearchRecordsParam.criteria, "(Last_Name:equals:Smith\\, John)")
    got = parsed(sdk_shared, RecordOperations("Contacts").search_records(params, HeaderMap()), ResponseWrapper, "record.json", "GET",
                 "/crm/v8/Contacts/search", "/crm/v8/{module_api_name}/search")
    assert [int(r.get_id()) for r in got.get_data()] == [rid]


def test_sdk_reads_layouts_profiles_roles_and_users(sdk_shared):
    """LayoutsOperations.get_layouts(module), ProfilesOperations.get_profiles,
    RolesOperations.get_roles, UsersOperations.get_users(type): typed layouts with sections and
    required fields, profiles, roles, users."""
    params = ParameterMap()
    params.add(GetLayoutsParam.module, "Leads")
    layouts = parsed(sdk_shared, LayoutsOperations().get_layouts(params), LayoutsResponse, "layouts.json", "GET",
                     "/crm/v8/settings/layouts").get_layouts()
    required = {f.get_api_name() for lay in layouts for s in lay.get_sections() for f in s.get_fields() if f.get_required()}
    assert {"Last_Name", "Company"} <= required
    profiles = parsed(sdk_shared, ProfilesOperations().get_profiles(ParameterMap()), ProfilesResponse, "profiles.json", "GET",
                      "/crm/v8/settings/profiles").get_profiles()
    assert "Administrator" in {p.get_name() for p in profiles}
    roles = parsed(sdk_shared, RolesOperations().get_roles(), RolesResponse, "roles.json", "GET", "/crm/v8/settings/roles").get_roles()
    assert roles and all(r.get_id() for r in roles)
    query = ParameterMap()
    query.add(GetUsersParam.type, "ActiveUsers")
    users = parsed(sdk_shared, UsersOperations().get_users(query, HeaderMap()), UsersResponse, "users.json", "GET", "/crm/v8/users").get_users()
    assert {"admin@clinic.example", "dr.rivera@clinic.example"} <= {u.get_email() for u in users}


def test_sdk_reads_a_contacts_related_notes(sdk_shared):
    """RelatedRecordsOperations("Notes", "Contacts").get_related_records: the SDK reads
    /settings/related_lists first, then GET /Contacts/{id}/Notes."""
    (cid,) = sdk_insert("Contacts", {"Last_Name": "Sdk Related"})
    with api_client(sdk_shared) as api:
        made = api.post("/crm/v8/Notes", json={"data": [{"Note_Title": "Sdk note", "Note_Content": "seen by the SDK",
                                                         "Parent_Id": {"module": {"api_name": "Contacts"}, "id": str(cid)}}]})
        assert made.status_code == 201, made.text
    params = ParameterMap()
    params.add(GetRelatedRecordsParam.fields, "Note_Title,Note_Content")
    got = parsed(sdk_shared, RelatedRecordsOperations("Notes", "Contacts").get_related_records(cid, params, HeaderMap()),
                 RelatedResponse, "related_records.json", "GET", f"/crm/v8/Contacts/{cid}/Notes",
                 "/crm/v8/{module_api_name}/{record_id}/{related_list_api_name}")
    assert [r.get_key_value("Note_Title") for r in got.get_data()] == ["Sdk note"]
