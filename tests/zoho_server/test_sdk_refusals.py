"""The official Zoho Python SDK (zohocrmsdk8-0) against the stricter server: a scope the grant lacks
(401 OAUTH_SCOPE_MISMATCH) parses as Zoho's APIException, and a search value with an escaped comma
finds its record. (A `Z` datetime cannot be sent through the SDK: it types datetimes itself.)"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("zoho_sdk")

pytest.importorskip("zohocrmsdk")

from tests.zoho_server.sdk import initialize as sdk_on  # noqa: E402

from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.record import (  # noqa: E402
    APIException, BodyWrapper, Record, RecordOperations, ResponseWrapper, SearchRecordsParam,
)
from zohocrmsdk.src.com.zoho.crm.api.exception.sdk_exception import SDKException  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.record.record_operations import GetRecordsParam  # noqa: E402

from clinic2zoho.zoho.criteria import equals  # noqa: E402


@pytest.fixture
def sdk_session(zoho_server, tmp_path):
    return sdk_on(zoho_server, tmp_path)


def test_sdk_reads_a_scope_refusal_as_apiexception(sdk_session):
    # ZOHO_API.md: a missing scope is 401 OAUTH_SCOPE_MISMATCH. The SDK reads field metadata first
    # (settings scope), then the records (module scope): both refusals parse as Zoho's APIException.
    params = ParameterMap()
    params.add(GetRecordsParam.fields, "Account_Name")
    sdk_session.settings(granted_scopes=["ZohoCRM.modules.ALL"])
    with pytest.raises(SDKException) as info:
        RecordOperations("Accounts").get_records(params, HeaderMap())
    assert info.value.details["code"] == "OAUTH_SCOPE_MISMATCH"
    sdk_session.settings(granted_scopes=["ZohoCRM.settings.ALL", "ZohoCRM.modules.contacts.ALL"])
    answer = RecordOperations("Accounts").get_records(params, HeaderMap())
    assert answer.get_status_code() == 401
    refusal = answer.get_object()
    assert isinstance(refusal, APIException) and refusal.get_code().get_value() == "OAUTH_SCOPE_MISMATCH"


def test_sdk_search_with_an_escaped_comma_finds_the_record(sdk_session):
    # search-records page: `,` in a value is escaped with a backslash (criteria built by zoho.criteria.equals)
    contact = Record()
    contact.add_key_value("Last_Name", "Smith, John")
    body = BodyWrapper()
    body.set_data([contact])
    assert RecordOperations("Contacts").create_records(body, HeaderMap()).get_status_code() == 201
    params = ParameterMap()
    params.add(SearchRecordsParam.criteria, equals("Last_Name", "Smith, John"))
    found = RecordOperations("Contacts").search_records(params, HeaderMap())
    assert found.get_status_code() == 200 and isinstance(found.get_object(), ResponseWrapper)
    assert [r.get_key_value("Last_Name") for r in found.get_object().get_data()] == ["Smith, John"]
