"""Shared set-up for the mapping tests: a landed warehouse, a private copy of the dbt project (so
confirmations and proposals never touch the real one) and a client for the local Zoho server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from clinic2zoho.generator import generate_export
from clinic2zoho.landing import land_export

from tests.fixtures.dbt_project import copy_dbt_project

EXPECTED = Path(__file__).with_name("expected")


def expected_mapping(fmt: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in yaml.safe_load((EXPECTED / f"{fmt}.yml").read_text()).items()}


@pytest.fixture
def dbt_copy(tmp_path, monkeypatch) -> Path:
    """The dbt project's models, seeds and macros copied for one test (no mapping folder yet)."""
    dest = copy_dbt_project(tmp_path / "dbt_project")
    monkeypatch.setenv("CLINIC2ZOHO_DBT_PROJECT", str(dest))
    return dest


@pytest.fixture(scope="session")
def generic_export(tmp_path_factory) -> Path:
    """A small generated generic export (its export folder), generated once per test process."""
    base = tmp_path_factory.mktemp("mapping-generic")
    generate_export(base / "gen", 120, seed=5, with_files=False)
    return base / "gen" / "export"


@pytest.fixture(scope="session")
def landed_generic(generic_export, tmp_path_factory) -> Path:
    """`generic_export` landed once per test process; tests get copies."""
    warehouse = tmp_path_factory.mktemp("mapping-landed") / "warehouse.duckdb"
    land_export(generic_export, "generic", warehouse)
    return warehouse


@pytest.fixture
def generic_warehouse(work_home, landed_generic) -> Path:
    """The small generated generic export landed into the test's own warehouse (a copy: tests
    write schema changes into it and land more beside it)."""
    warehouse = work_home / "warehouse.duckdb"
    shutil.copy(landed_generic, warehouse)
    return warehouse


def client_for(server):
    from clinic2zoho.zoho import ZohoClient, ZohoConfig

    return ZohoClient(ZohoConfig(server.client_id, server.client_secret, server.refresh_token, data_centre=None,
                                 accounts_url=server.accounts_url, api_url=server.api_url, upload_url=server.upload_url,
                                 max_attempts=2))
