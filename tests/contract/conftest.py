"""The contract suite's session: one org for every test (the local server unless
CLINIC2ZOHO_CONTRACT_ORG names a real sandbox's credentials, see tests/contract/org.py), every
answer checked against Zoho's OAS files, everything created deleted at the end.

Tests marked `local_only` need the local server's admin API (settings, fault injection, clock)
and are skipped against a real org, with the reason."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from clinic2zoho.zoho_server.process import ZohoServerProcess
from tests.contract.calls import Ledger, Zoho
from tests.contract.org import ContractOrg, ContractOrgError, local_org, org_from_env, sandbox_refusal
from tests.fixtures.zoho import DEFAULT_ZOHO_USERS
from tests.zoho_server.oas import OAS_DIR, Conformance, prepare

LOCAL_ONLY_REASON = "needs the local server's admin API; skipped against a real org"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"local_only: {LOCAL_ONLY_REASON}")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = str(config.rootpath / "tests" / "contract")
    for item in items:
        if str(item.path).startswith(here):
            # one worker holds the suite's one org (make test runs -n 2 --dist loadgroup)
            item.add_marker(pytest.mark.xdist_group("zoho_contract"))


@pytest.fixture(scope="session")
def contract_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContractOrg]:
    if not OAS_DIR.is_dir():
        pytest.skip("Zoho's OAS files are not in the shared folder: the contract suite validates every answer with them")
    try:
        real = org_from_env()
    except ContractOrgError as exc:
        pytest.exit(f"contract suite refused: {exc}", returncode=4)
    if real is not None:
        try:
            with real.http() as http:
                resp = http.get("/crm/v8/org")
        except (ContractOrgError, httpx.HTTPError) as exc:
            pytest.exit(f"contract suite refused: {real.name}: {exc.__class__.__name__}: {exc}"[:300], returncode=4)
        refusal = sandbox_refusal(resp.json()) if resp.status_code == 200 else f"GET /crm/v8/org answered {resp.status_code}"
        if refusal:
            pytest.exit(f"contract suite refused against {real.name}: {refusal}", returncode=4)
        yield real
        return
    folder = tmp_path_factory.mktemp("zoho-contract")
    with ZohoServerProcess(state=folder / "state.sqlite", users=DEFAULT_ZOHO_USERS, workdir=folder) as server:
        yield local_org(server)


@pytest.fixture(scope="session")
def oas(tmp_path_factory: pytest.TempPathFactory) -> Conformance:
    return Conformance(prepare(tmp_path_factory.mktemp("zoho-oas-contract")))


@pytest.fixture(scope="session")
def ledger(contract_org: ContractOrg) -> Iterator[Ledger]:
    book = Ledger()
    yield book
    with contract_org.http(token=contract_org.token(fresh=True)) as http:
        book.clean(http)


@pytest.fixture(scope="session")
def zoho(contract_org: ContractOrg, oas: Conformance, ledger: Ledger) -> Iterator[Zoho]:
    with contract_org.http() as http:
        yield Zoho(http, oas, ledger)


@pytest.fixture(scope="session")
def upload(contract_org: ContractOrg, oas: Conformance, ledger: Ledger) -> Iterator[Zoho]:
    """Calls to the upload host (Bulk Write's file upload)."""
    with contract_org.http("upload") as http:
        yield Zoho(http, oas, ledger)


@pytest.fixture
def local_server(request: pytest.FixtureRequest, contract_org: ContractOrg) -> ZohoServerProcess:
    """The local server behind the org (tests that need its admin API; skipped otherwise)."""
    if contract_org.local is None:
        pytest.skip(LOCAL_ONLY_REASON)
    return contract_org.local


@pytest.fixture(autouse=True)
def _skip_local_only(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("local_only") and "contract_org" in request.fixturenames:
        org = request.getfixturevalue("contract_org")
        if not org.is_local:
            pytest.skip(LOCAL_ONLY_REASON)


@pytest.fixture(scope="session")
def run_id(contract_org: ContractOrg) -> str:
    """A word this run's records carry (names, e-mails), so a shared sandbox's data never matches."""
    return contract_org.run_id
