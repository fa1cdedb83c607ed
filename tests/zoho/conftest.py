"""Clients wired to a local Zoho server, with fast backoff so fault tests stay quick."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable

import pytest

from clinic2zoho.zoho import CallEvent, ZohoClient, ZohoConfig
from clinic2zoho.zoho_server.process import ZohoServerProcess
from tests.fixtures.zoho import DEFAULT_ZOHO_USERS

_counter = itertools.count()

class Recorder:
    """Collects the on_call events of a client."""

    def __init__(self) -> None:
        self.events: list[CallEvent] = []

    def __call__(self, event: CallEvent) -> None:
        self.events.append(event)

    def of(self, method: str | None = None, outcome: str | None = None, path: str | None = None) -> list[CallEvent]:
        return [e for e in self.events if (method is None or e.method == method)
                and (outcome is None or e.outcome == outcome) and (path is None or e.path == path)]


def config_for(server, **overrides) -> ZohoConfig:
    values = dict(
        client_id=server.client_id, client_secret=server.client_secret, refresh_token=server.refresh_token,
        data_centre=None, accounts_url=server.accounts_url, api_url=server.api_url, upload_url=server.upload_url,
        timeout=10.0, max_attempts=8, backoff_initial=0.02, backoff_max=0.3, poll_initial=0.05, poll_max=0.3,
        bulk_timeout=60.0,
    )
    values.update(overrides)
    return ZohoConfig(**values)


@pytest.fixture(scope="module")
def shared_zoho_server(tmp_path_factory) -> ZohoServerProcess:
    """One server for a test module whose tests only add records under their own keys (server
    starts cost seconds); modules that change settings or the clock override `server`."""
    folder = tmp_path_factory.mktemp("zoho-shared")
    server = ZohoServerProcess(state=folder / "state.sqlite", users=DEFAULT_ZOHO_USERS, workdir=folder).start()
    yield server
    server.close()


@pytest.fixture
def server(shared_zoho_server) -> ZohoServerProcess:
    return shared_zoho_server


@pytest.fixture
def make_client(server) -> Callable[..., tuple[ZohoClient, Recorder]]:
    clients: list[ZohoClient] = []

    def make(target=None, **overrides) -> tuple[ZohoClient, Recorder]:
        recorder = Recorder()
        client = ZohoClient(config_for(target or server, **overrides), on_call=recorder)
        clients.append(client)
        return client, recorder

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client) -> ZohoClient:
    return make_client()[0]


def unique(prefix: str = "k") -> str:
    return f"{prefix}{next(_counter)}-{uuid.uuid4().hex[:8]}"


def ensure_external_field(client: ZohoClient, module: str = "Contacts", api_name: str = "Clinic_Patient_Id") -> str:
    """An External ID text field on `module` (created once per server)."""
    if client.field(module, api_name) is None:
        created = client.create_field(module, {"field_label": api_name.replace("_", " "), "data_type": "text",
                                               "length": 50, "external": {"type": "org", "show": True}})
        assert created["api_name"] == api_name
    return api_name


def contacts(n: int, tag: str, **extra) -> list[dict]:
    return [{"Last_Name": f"Test{i}", "Clinic_Patient_Id": f"{tag}-{i}", **extra} for i in range(n)]


def count_by_key(client: ZohoClient, module: str, field: str, prefix: str) -> dict[str, int]:
    """How many records of `module` carry each key starting with `prefix` (read via the API)."""
    counts: dict[str, int] = {}
    for rec in client.iter_records(module, ["id", field]):
        key = rec.get(field)
        if isinstance(key, str) and key.startswith(prefix):
            counts[key] = counts.get(key, 0) + 1
    return counts
