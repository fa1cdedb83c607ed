"""Warehouses built once per test process (pytest-xdist worker) and shared by every module that
reads them: land an export with the real landing, land the org's users, run the real `dbt build`.
Modules sharing a warehouse share an xdist group, so one worker builds it once. Break-the-gate tests
work on a copy of the built DuckDB file, never on the shared one."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

# the builders and the shared samples' warehouses (Synthea, FHIR) live with the other areas'
# shared fixtures (the end-to-end load starts from the Synthea one); imported from here as before
from tests.fixtures.warehouses import DEMO, BuiltWarehouse, build_generated, build_warehouse  # noqa: F401


def execute(warehouse: Path, *statements: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        for statement in statements:
            con.execute(statement)


def patient_modules(warehouse: BuiltWarehouse) -> dict[str, str]:
    """Patient id -> the Zoho module its record went to (Contacts or Leads)."""
    module = {r[0]: "Contacts" for r in warehouse.query("select Clinic_Patient_Id from zoho.zoho_contacts")}
    module.update({r[0]: "Leads" for r in warehouse.query("select Clinic_Patient_Id from zoho.zoho_leads")})
    return module


GENERATED_PATIENTS = 10_000


@pytest.fixture(scope="session")
def generated_export(tmp_path_factory: pytest.TempPathFactory):
    from clinic2zoho.generator import generate_export

    return generate_export(tmp_path_factory.mktemp("generated"), GENERATED_PATIENTS, seed=11)


@pytest.fixture(scope="session")
def generic_warehouse(generated_export, tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """The large generated export with its documents (xdist group "dbt_generic")."""
    return build_generated(tmp_path_factory.mktemp("generic"), generated_export)


# One small build for the communications, typed-check and primary-provider modules: enough
# patients for the primary-provider count (over 500 kept after the merges), few enough to build
# quickly, no document files. With seed 5 the planted bad phones all fall on Contacts, as the
# typed-check test expects (with seed 13 one falls on a Lead).
SMALL_PATIENTS = 600


@pytest.fixture(scope="session")
def small_generic_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """A small generated export without documents (xdist group "dbt_small_generic");
    `.generated` is the export it was built from."""
    from clinic2zoho.generator import generate_export

    work = tmp_path_factory.mktemp("small_generic")
    return build_generated(work, generate_export(work / "gen", SMALL_PATIENTS, seed=5, with_files=False))
