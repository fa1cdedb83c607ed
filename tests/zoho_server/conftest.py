"""Helpers for the server's tests: an httpx client holding a fresh access token."""

from __future__ import annotations

import io
import zipfile
from typing import Iterator

import httpx
import pytest

from clinic2zoho.zoho_server.process import ZohoServerProcess


def api_client(server: ZohoServerProcess) -> httpx.Client:
    return httpx.Client(base_url=server.api_url, timeout=30.0,
                        headers={"Authorization": f"Zoho-oauthtoken {server.access_token()}"})


@pytest.fixture
def api(zoho_server: ZohoServerProcess) -> Iterator[httpx.Client]:
    with api_client(zoho_server) as client:
        yield client


def zip_csv(text: str, name: str = "data.csv") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, text)
    return buf.getvalue()


def org_profiles(api: httpx.Client) -> list[dict]:
    """Every profile of the org as Zoho's "Create Custom Module" wants them (`profiles` mandatory)."""
    return [{"id": p["id"]} for p in api.get("/crm/v8/settings/profiles").json()["profiles"]]


def add_external_field(api: httpx.Client, module: str = "Contacts", label: str = "Clinic Patient Id") -> str:
    resp = api.post("/crm/v8/settings/fields", params={"module": module},
                    json={"fields": [{"field_label": label, "data_type": "text", "length": 40, "external": {"type": "org"}}]})
    assert resp.status_code == 201, resp.text
    return label.replace(" ", "_")


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory) -> Iterator[ZohoServerProcess]:
    """One server for a test module whose tests do not depend on a fresh org (each uses its own
    record names); saves a process start per test."""
    from tests.fixtures.zoho import DEFAULT_ZOHO_USERS

    folder = tmp_path_factory.mktemp("zoho-shared")
    with ZohoServerProcess(state=folder / "state.sqlite", users=DEFAULT_ZOHO_USERS, workdir=folder) as server:
        yield server


@pytest.fixture
def sapi(shared_server: ZohoServerProcess) -> Iterator[httpx.Client]:
    with api_client(shared_server) as client:
        yield client
