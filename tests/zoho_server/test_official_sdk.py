"""The official Zoho Python SDK (PyPI zohocrmsdk8-0) against the local server: the independent check
that the server speaks Zoho's dialect. Insert, read and delete a Contact; upload a bulk-write zip
and run a job to completion."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

pytestmark = pytest.mark.xdist_group("zoho_sdk")

sdk = pytest.importorskip("zohocrmsdk")

from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken  # noqa: E402
from zohocrmsdk.src.com.zoho.api.authenticator.store.file_store import FileStore  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.bulk_write import (  # noqa: E402
    BulkWriteOperations, FieldMapping, FileBodyWrapper, RequestWrapper, Resource,
)
from zohocrmsdk.src.com.zoho.crm.api.bulk_write import SuccessResponse as BulkSuccess  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.bulk_write.bulk_write_operations import UploadFileHeader  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.modules import MinifiedModule  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.record import (  # noqa: E402
    ActionWrapper, BodyWrapper, Field, Record, RecordOperations, ResponseWrapper, SuccessResponse,
)
from zohocrmsdk.src.com.zoho.crm.api.record.record_operations import DeleteRecordsParam  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.util import Choice, StreamWrapper  # noqa: E402


@pytest.fixture
def sdk_session(zoho_server, tmp_path):
    environment = DataCenter.Environment(zoho_server.api_url, f"{zoho_server.accounts_url}/oauth/v2/token",
                                         zoho_server.upload_url)
    token = OAuthToken(client_id=zoho_server.client_id, client_secret=zoho_server.client_secret,
                       refresh_token=zoho_server.refresh_token)
    Initializer.initialize(environment=environment, token=token, store=FileStore(str(tmp_path / "sdk_tokens.txt")),
                           sdk_config=SDKConfig(auto_refresh_fields=False, pick_list_validation=False, update_api_domain=False),
                           resource_path=str(tmp_path))
    return zoho_server


def test_sdk_inserts_reads_and_deletes_a_contact(sdk_session):
    ops = RecordOperations("Contacts")
    record = Record()
    record.add_field_value(Field.Contacts.last_name(), "Sdk Patient")
    record.add_field_value(Field.Contacts.email(), "sdk.patient@clinic.example")
    body = BodyWrapper()
    body.set_data([record])
    created = ops.create_records(body, HeaderMap())
    assert created.get_status_code() == 201
    action = created.get_object()
    assert isinstance(action, ActionWrapper)
    (result,) = action.get_data()
    assert isinstance(result, SuccessResponse), result.get_message().get_value()
    assert result.get_code().get_value() == "SUCCESS"
    record_id = int(result.get_details()["id"])

    fetched = ops.get_record(record_id, ParameterMap(), HeaderMap())
    assert fetched.get_status_code() == 200
    wrapper = fetched.get_object()
    assert isinstance(wrapper, ResponseWrapper)
    got = wrapper.get_data()[0]
    assert got.get_key_value("Last_Name") == "Sdk Patient"
    assert got.get_key_value("Email") == "sdk.patient@clinic.example"

    params = ParameterMap()
    params.add(DeleteRecordsParam.ids, str(record_id))
    deleted = ops.delete_records(params, HeaderMap())
    assert deleted.get_status_code() == 200
    assert deleted.get_object().get_data()[0].get_code().get_value() == "SUCCESS"
    assert ops.get_record(record_id, ParameterMap(), HeaderMap()).get_status_code() == 204


def test_sdk_uploads_a_bulk_write_zip_and_runs_the_job_to_completion(sdk_session, tmp_path):
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
    job_id = str(job.get_object().get_details()["id"])

    deadline = time.monotonic() + 30
    while True:
        details = ops.get_bulk_write_job_details(job_id).get_object()
        status = details.get_status()
        if status in ("COMPLETED", "FAILED") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status == "COMPLETED"
    file_info = details.get_resource()[0].get_file()
    assert (file_info.get_added_count(), file_info.get_total_count()) == (20, 20)
    download = ops.download_bulk_write_result(details.get_result().get_download_url())
    assert download.get_status_code() == 200
