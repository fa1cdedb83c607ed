"""What the DAG tests (and the cluster test) start from: a generated export, a private copy of the
dbt project whose mapping was proposed against a local Zoho org and confirmed, the ZohoConfig
that reaches a local server, and helpers to edit the export and parse the delta DAG."""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from clinic2zoho.generator import generate_export
from clinic2zoho.landing import land_export
from clinic2zoho.mapping import confirmation, layout_mandatory
from clinic2zoho.mapping.propose_command import propose_mapping
from clinic2zoho.orchestration.dbt_manifest import current_manifest, write_manifest
from clinic2zoho.settings import PROJECT_ROOT
from clinic2zoho.zoho import ZohoClient, ZohoConfig
from clinic2zoho.zoho_server.process import ZohoServerProcess

from tests.fixtures.dbt_project import copy_dbt_project

DAGS_DIR = PROJECT_ROOT / "dags"


def local_config(server: ZohoServerProcess) -> ZohoConfig:
    url = server.base_url
    return ZohoConfig(server.client_id, server.client_secret, server.refresh_token, data_centre=None,
                      accounts_url=url, api_url=url, upload_url=url)


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

    @property
    def merges(self) -> Path:
        return self.gen / "patient_merges.csv"

    def run_conf(self, **extra) -> dict:
        return {"source": str(self.export), "format": "generic",
                "provider_email_overrides_file": str(self.overrides), "patient_merges_file": str(self.merges),
                **extra}


def generate(base: Path, patients: int, seed: int) -> ConfirmedExport:
    """The export and the project copy, not yet proposed (the org's server needs the users file).
    The clinic decided the duplicate pairs the Data Quality Report makes the gate stop on: the
    planted ones are merged into their originals (patient_merges.csv beside the export)."""
    generated = generate_export(base / "gen", patients, seed=seed)
    (base / "gen" / "patient_merges.csv").write_text(
        "duplicate_patient_id,surviving_patient_id\n"
        + "".join(f"{d.duplicate_id},{d.original_id}\n" for d in generated.cases.duplicate_pairs), encoding="utf-8")
    return ConfirmedExport(base / "gen", copy_dbt_project(base / "dbt_project", profiles=True))


def propose_and_confirm(scenario: ConfirmedExport, warehouse: Path, config: ZohoConfig) -> None:
    """Land the export into `warehouse`, propose the mapping against the org, confirm it."""
    land_export(scenario.export, "generic", warehouse=warehouse)
    with ZohoClient(config) as client:
        propose_mapping("generic", warehouse, scenario.dbt, client)
    # the person confirming also gives the value the org's Leads layout requires (Company)
    layout_mandatory.supply(scenario.dbt, {"Leads.Company": "Individual (patient)"}, "dag test")
    confirmation.confirm("dag test", scenario.dbt)
    write_manifest(scenario.dbt, warehouse.parent)  # as `clinic2zoho migrate` does before Airflow starts


def share_manifest(dbt: Path, parsed_home: Path, home: Path) -> None:
    """Give `home` the dbt manifest `parsed_home` holds (the DAG files render from the work folder's
    manifest), when it is still that of the project as it is now: one `dbt parse` per scenario."""
    if current_manifest(dbt, parsed_home) is not None and not (home / "dbt_manifest").exists():
        shutil.copytree(parsed_home / "dbt_manifest", home / "dbt_manifest")


def sign_off_sample(home: Path, dbt: Path) -> None:
    """The sample run signed off with the mapping as confirmed now, as the admin records it after
    reviewing the sample's diff (the cutover's gate requires it; the sample itself is another
    DAG's subject, tests/orchestration/test_signoff.py the sign-off's)."""
    from clinic2zoho.orchestration.signoff import SIGNED_OFF, SignOff, write_signoff

    record = confirmation.read_confirmation(dbt)
    if record is not None:
        write_signoff(home, SignOff("sample_reviewed", SIGNED_OFF, "dag test", record.confirmed_at,
                                    "reports/sample_diff.csv", "", record.hash, 0, 0))


def rewrite_csv(path: Path, edit) -> None:
    """Rewrite an export CSV as the clinic's system would: `edit(rows) -> rows` gets the well-formed
    rows as dicts, may change them in place and append new ones. Malformed rows (the generator's
    planted defects) stay exactly as they were, so nothing but the edit reads as a change."""
    with open(path, newline="", encoding="utf-8") as fh:
        header, *raw = list(csv.reader(fh))
    well = [i for i, row in enumerate(raw) if len(row) == len(header)]
    rows = edit([dict(zip(header, raw[i])) for i in well])
    for i, row in zip(well, rows):
        raw[i] = [row[h] for h in header]
    raw += [[row[h] for h in header] for row in rows[len(well):]]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(raw)


def only_this_dag_in_the_bundle(monkeypatch, dag_file: Path) -> None:
    """Before each run, `dag.test()` (Airflow 3.3) parses every DAG file of the DAGs folder and
    writes them to the metadata DB; two of ours render the dbt project at parse (`dbt ls`, about
    5 s each, without a work folder's manifest). The test's DAGs folder holds only the DAG file
    under test, as `clinic2zoho migrate` gives each `airflow dags test`."""
    folder = Path(os.environ["CLINIC2ZOHO_TESTS_SESSION_HOME"]) / "dag_bundles" / dag_file.stem
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / dag_file.name).exists():
        (folder / dag_file.name).symlink_to(dag_file)
    from airflow import settings as airflow_settings

    # the DAGs folder bundle's default path is read once, when Airflow is imported
    monkeypatch.setattr(airflow_settings, "DAGS_FOLDER", str(folder))


def load_dag_file(monkeypatch, dag_file: Path, module_name: str):
    """Parse a DAG file afresh under `module_name`, the DAGs folder holding only it."""
    only_this_dag_in_the_bundle(monkeypatch, dag_file)
    spec = importlib.util.spec_from_file_location(module_name, dag_file)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module.dag


def load_delta_dag(monkeypatch, **env: str):
    """Parse dags/clinic_delta.py afresh (it reads its knobs, e.g. CLINIC2ZOHO_DELTA_WAIT_SECONDS,
    at parse)."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load_dag_file(monkeypatch, DAGS_DIR / "clinic_delta.py", "clinic_delta_under_test")


def load_cutover_dag(monkeypatch, select: str = ""):
    """Parse dags/clinic_cutover.py afresh (it reads the work folder, the export's format and the
    selection at parse)."""
    monkeypatch.setenv("CLINIC2ZOHO_DBT_SELECT", select)
    monkeypatch.setenv("CLINIC2ZOHO_SOURCE_FORMAT", "generic")
    return load_dag_file(monkeypatch, DAGS_DIR / "clinic_cutover.py", "clinic_cutover_under_test")
