"""What the DAG tests (and the cluster test) start from: a generated export, a private copy of the
dbt project whose mapping was proposed against a local Zoho org and confirmed, and the ZohoConfig
that reaches a local server."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from clinic2zoho.generator import generate_export
from clinic2zoho.landing import land_export
from clinic2zoho.mapping import confirmation
from clinic2zoho.mapping.propose_command import propose_mapping
from clinic2zoho.settings import DBT_PROJECT_DIR
from clinic2zoho.zoho import ZohoClient, ZohoConfig
from clinic2zoho.zoho_server.process import ZohoServerProcess


def local_config(server: ZohoServerProcess) -> ZohoConfig:
    url = server.base_url
    return ZohoConfig(server.client_id, server.client_secret, server.refresh_token, data_centre=None,
                      accounts_url=url, api_url=url, upload_url=url)


def copy_dbt_project(dest: Path) -> Path:
    """A copy the test may edit and confirm without touching the repository's project."""
    dest.mkdir()
    for name in ("models", "seeds", "macros", "tests"):
        shutil.copytree(DBT_PROJECT_DIR / name, dest / name)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(DBT_PROJECT_DIR / name, dest / name)
    return dest


@dataclass
class ConfirmedExport:
    gen: Path  # the generator's folder: export/, zoho_users.json, provider_email_overrides.csv
    dbt: Path  # the dbt project copy, mapping confirmed

    @property
    def export(self) -> Path:
        return self.gen / "export"

    @property
    def users(self) -> Path:
        return self.gen / "zoho_users.json"

    @property
    def overrides(self) -> Path:
        return self.gen / "provider_email_overrides.csv"

    def run_conf(self, **extra) -> dict:
        return {"source": str(self.export), "format": "generic",
                "provider_email_overrides_file": str(self.overrides), **extra}


def generate(base: Path, patients: int, seed: int) -> ConfirmedExport:
    """The export and the project copy, not yet proposed (the org's server needs the users file)."""
    generate_export(base / "gen", patients, seed=seed)
    return ConfirmedExport(base / "gen", copy_dbt_project(base / "dbt_project"))


def propose_and_confirm(scenario: ConfirmedExport, warehouse: Path, config: ZohoConfig) -> None:
    """Land the export into `warehouse`, propose the mapping against the org, confirm it."""
    land_export(scenario.export, "generic", warehouse=warehouse)
    with ZohoClient(config) as client:
        propose_mapping("generic", warehouse, scenario.dbt, client)
    confirmation.confirm("dag test", scenario.dbt)
