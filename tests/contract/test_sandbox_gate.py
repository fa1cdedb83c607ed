"""The suite's own safety: against a real org it runs only when GET /crm/v8/org says sandbox, and
it leaves nothing behind. Proved by running the suite in a subprocess with the opt-in variable
naming a local server's credentials, as a clinic would name its sandbox's."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from clinic2zoho.zoho_server.process import ZohoServerProcess
from tests.conftest import ROOT
from tests.contract.org import OPT_IN, ContractOrgError, org_from_env, sandbox_refusal
from tests.fixtures.zoho import DEFAULT_ZOHO_USERS

pytestmark = pytest.mark.local_only


def opt_in_env(server: ZohoServerProcess, prefix: str = "C2ZT") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", OPT_IN))}
    return env | {OPT_IN: prefix, f"{prefix}_CLIENT_ID": server.client_id, f"{prefix}_CLIENT_SECRET": server.client_secret,
                  f"{prefix}_REFRESH_TOKEN": server.refresh_token, f"{prefix}_ACCOUNTS_URL": server.base_url,
                  f"{prefix}_API_DOMAIN": server.base_url, f"{prefix}_UPLOAD_URL": server.base_url}


def run_suite(env: dict[str, str], *targets: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *targets],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_a_production_org_is_refused_before_any_test_runs(tmp_path):
    """A local org whose GET /crm/v8/org says type production, named by the opt-in variable: the
    session stops (pytest exit code 4) naming the org type, and no record is written."""
    with ZohoServerProcess(users=DEFAULT_ZOHO_USERS, workdir=tmp_path, settings={"org_type": "production"}) as server:
        before = server.snapshot()
        proc = run_suite(opt_in_env(server), "tests/contract/test_records.py")
        assert proc.returncode == 4, proc.stdout[-2000:]
        assert "not a sandbox" in proc.stdout + proc.stderr and "'Production'" in proc.stdout + proc.stderr
        assert server.snapshot()["data_hash"] == before["data_hash"]
        assert server.refresh_token not in proc.stdout + proc.stderr  # no secret in the refusal


def test_against_a_sandbox_the_suite_runs_and_deletes_what_it_created(tmp_path):
    """The same, with type sandbox: the record tests run through the real-org path (local-only
    tests skipped with the reason) and the session's teardown deletes every record and field it
    created: the org's data and schema are as before."""
    with ZohoServerProcess(users=DEFAULT_ZOHO_USERS, workdir=tmp_path, settings={"org_type": "sandbox"}) as server:
        before = server.snapshot()
        proc = run_suite(opt_in_env(server), "tests/contract/test_records.py", "tests/contract/test_auth_and_errors.py",
                         "tests/contract/test_bulk_write.py", "-rs")
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert "needs the local server's admin API" in proc.stdout  # the local-only tests were skipped, saying why
        after = server.snapshot()
        assert after["data_hash"] == before["data_hash"]
        assert after["schema"]["Contacts"] == before["schema"]["Contacts"]


def test_missing_credentials_are_named_not_guessed():
    """The opt-in variable without its credentials names the missing variables (never values)."""
    with pytest.raises(ContractOrgError, match="ZSBX_CLIENT_SECRET.*ZSBX_REFRESH_TOKEN"):
        org_from_env({OPT_IN: "ZSBX", "ZSBX_CLIENT_ID": "id", "ZSBX_DATA_CENTRE": "EU"})
    org = org_from_env({OPT_IN: "ZSBX", "ZSBX_CLIENT_ID": "i", "ZSBX_CLIENT_SECRET": "s", "ZSBX_REFRESH_TOKEN": "r",
                        "ZSBX_DATA_CENTRE": "EU"})
    assert (org.config.accounts_base, org.config.api_base) == ("https://accounts.zoho.eu", "https://www.zohoapis.eu")
    assert org_from_env({}) is None


@pytest.mark.parametrize("kind, refused", [("Sandbox", False), ("sandbox", False), ("Production", True),
                                           ("Developer", True), ("Bigin", True), (None, True)])
def test_only_a_sandbox_passes_the_gate(kind, refused):
    """org.json: Org.type is one of Bigin, Production, Developer, Sandbox."""
    assert (sandbox_refusal({"org": [{"type": kind}]}) is not None) is refused


def test_a_refused_token_grant_stops_the_session_without_quoting_the_secret(tmp_path):
    """Credentials the org's accounts server refuses: the session stops (exit code 4) naming the
    prefix and the HTTP status, never the secret."""
    with ZohoServerProcess(users=DEFAULT_ZOHO_USERS, workdir=tmp_path, settings={"org_type": "sandbox"}) as server:
        env = opt_in_env(server) | {"C2ZT_CLIENT_SECRET": "not-the-secret-0123"}
        proc = run_suite(env, "tests/contract/test_records.py")
        assert proc.returncode == 4, proc.stdout[-2000:]
        assert "C2ZT: the token grant was refused" in proc.stdout + proc.stderr
        assert "not-the-secret-0123" not in proc.stdout + proc.stderr
