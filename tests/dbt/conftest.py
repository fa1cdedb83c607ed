"""Warehouses built once per test process (pytest-xdist worker) and shared by every module that
reads them: land an export with the real landing, land the org's users, run the real `dbt build`.
Modules sharing a warehouse share an xdist group, so one worker builds it once. Break-the-gate tests
work on a copy of the built DuckDB file, never on the shared one."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from clinic2zoho.landing import land_export, land_users
from clinic2zoho.transform import DbtRunResult, run_dbt
from tests.conftest import ROOT

DEMO = ROOT / "demo"


@dataclass
class BuiltWarehouse:
    path: Path
    result: DbtRunResult
    vars: dict[str, Any]
    generated: Any = None  # the GeneratedExport it was built from, for a generated export

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(sql).fetchall()

    def scalar(self, sql: str) -> Any:
        return self.query(sql)[0][0]

    def copy(self, dest_dir: Path) -> Path:
        """A private copy of the built warehouse (and dbt's parse cache) to break on purpose."""
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / self.path.name
        shutil.copy(self.path, dest)
        target = self.path.parent / f"{self.path.stem}.dbt_target"
        partial = target / "partial_parse.msgpack"
        if partial.exists():
            (dest_dir / f"{self.path.stem}.dbt_target").mkdir(exist_ok=True)
            shutil.copy(partial, dest_dir / f"{self.path.stem}.dbt_target" / partial.name)
        return dest


def build_warehouse(
    work: Path, source: Path, fmt: str, users: Path, dbt_vars: dict[str, Any]
) -> BuiltWarehouse:
    warehouse = work / "warehouse.duckdb"
    land_export(source, fmt, warehouse=warehouse)
    land_users(users, "production", warehouse=warehouse)
    result = run_dbt(["build"], warehouse=warehouse, vars=dbt_vars)
    return BuiltWarehouse(warehouse, result, dbt_vars)


def build_generated(work: Path, generated) -> BuiltWarehouse:
    """A generated generic export built as the clinic would: its duplicate candidates confirmed
    (merged into their originals) and its provider e-mail overrides given."""
    from clinic2zoho.transform.dbt_runner import export_vars

    merges = work / "patient_merges.csv"
    merges.write_text(
        "duplicate_patient_id,surviving_patient_id\n"
        + "".join(f"{p.duplicate_id},{p.original_id}\n" for p in generated.cases.duplicate_pairs),
        encoding="utf-8",
    )
    dbt_vars = {
        **export_vars(generated.export_dir, "generic"),
        "provider_email_overrides_file": str(generated.overrides_path),
        "patient_merges_file": str(merges),
    }
    built = build_warehouse(work, generated.export_dir, "generic", generated.zoho_users_path, dbt_vars)
    built.generated = generated
    return built


def execute(warehouse: Path, *statements: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        for statement in statements:
            con.execute(statement)


@pytest.fixture(scope="session")
def synthea_warehouse(synthea_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    demo = DEMO / "synthea_ma27"
    return build_warehouse(
        tmp_path_factory.mktemp("synthea"),
        synthea_dir,
        "synthea",
        demo / "zoho_users.json",
        {"provider_email_overrides_file": str(demo / "provider_email_overrides.csv")},
    )


@pytest.fixture(scope="session")
def fhir_warehouse(fhir_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    demo = DEMO / "fhir_bulk_ndjson_10"
    return build_warehouse(
        tmp_path_factory.mktemp("fhir"),
        fhir_dir,
        "fhir",
        demo / "zoho_users.json",
        # the FHIR sample's patients live in Kansas
        {"provider_email_overrides_file": str(demo / "provider_email_overrides.csv"), "clinic_timezone": "America/Chicago"},
    )


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
