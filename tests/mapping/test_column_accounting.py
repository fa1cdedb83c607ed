"""Every landed column accounted for: migrated (to which field, by which rule), read by the dbt
models, or not migrated with its reason, from the mapping file, the source map and the staging
SQL; a column dropped without a reason fails the mapping gate before anything reaches Zoho, and
the review page lists them all."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
import yaml

from clinic2zoho.generator import generate_export
from clinic2zoho.landing import land_export
from clinic2zoho.mapping import column_accounting as ca
from clinic2zoho.mapping import confirmation, files, source_map
from clinic2zoho.mapping.review import write_review
from clinic2zoho.settings import DBT_PROJECT_DIR

from tests.fixtures.dbt_project import copy_dbt_project


def _accounting(warehouse: Path, dbt_dir: Path = DBT_PROJECT_DIR) -> dict[tuple[str, str], ca.ColumnAccount]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {(r.table, r.column): r for r in ca.account(con, dbt_dir)}


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


def test_every_column_of_a_generated_export_is_accounted_for(generic_warehouse, generic_export):
    rows = _accounting(generic_warehouse)
    export = generic_export
    # every header of every landed file is there, and nothing else but them
    for path in sorted(export.glob("*.csv")):
        table = f"raw.generic__{path.stem}"
        assert {c for t, c in rows if t == table} == set(_header(path)), path.name
    assert all(r.accounted for r in rows.values()), [r for r in rows.values() if not r.accounted]
    email = rows[("raw.generic__patients", "email")]
    assert (email.status, email.target) == (ca.MIGRATED, "Contacts.Email") and "zoho_contacts" in email.rule
    workflow = rows[("raw.generic__workflows", "definition")]
    assert workflow.status == ca.NOT_MIGRATED and "entity workflows not migrated" in workflow.reason
    provider = rows[("raw.generic__patients", "primary_provider_id")]
    assert (provider.status, provider.target, provider.rule) == (ca.MIGRATED, "Contacts.Owner", "mapped by zoho_contacts")


@pytest.mark.parametrize("fmt", ["synthea", "fhir"])
def test_the_shared_exports_are_accounted_for(fmt, synthea_dir, fhir_dir, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    land_export(synthea_dir if fmt == "synthea" else fhir_dir, fmt, warehouse=warehouse)
    rows = _accounting(warehouse)
    assert rows and all(r.accounted for r in rows.values()), [r for r in rows.values() if not r.accounted]
    if fmt == "synthea":
        ssn = rows[("raw.synthea__patients", "ssn")]
        assert ssn.status == ca.NOT_MIGRATED and ssn.reason


@pytest.fixture
def planted(tmp_path, work_home):
    """A generated export whose patients.csv has a column nobody mapped, landed, with a confirmed
    copy of the dbt project."""
    generate_export(tmp_path / "gen", 60, seed=9, with_files=False)
    path = tmp_path / "gen" / "export" / "patients.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        table = list(csv.reader(fh))
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([table[0] + ["loyalty_tier"]] + [r + ["gold"] for r in table[1:]])
    warehouse = work_home / "warehouse.duckdb"
    land_export(tmp_path / "gen" / "export", "generic", warehouse)
    dbt = copy_dbt_project(tmp_path / "dbt_project", mapping=["generic.yml"])
    confirmation.confirm("reviewer", dbt)
    return warehouse, dbt


def test_a_column_dropped_without_a_reason_fails_the_gate_until_the_mapping_gives_one(planted):
    warehouse, dbt = planted
    with pytest.raises(ca.ColumnsUnaccounted, match=r"raw.generic__patients: loyalty_tier.*clinic2zoho confirm"):
        ca.require_accounted(warehouse, dbt, task="the DAG clinic_cutover")
    # the mapping file says it is not migrated, and why
    path = files.mapping_path("generic", dbt)
    doc = yaml.safe_load(path.read_text())
    patients = next(e for e in doc["entities"] if e["entity"] == "patients")
    patients["fields"].append({"column": "loyalty_tier", "target": "skip",
                               "reasons": ["not migrated: the clinic retires its loyalty scheme"]})
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    rows = {(r.table, r.column): r for r in ca.require_accounted(warehouse, dbt)}
    tier = rows[("raw.generic__patients", "loyalty_tier")]
    assert tier.status == ca.NOT_MIGRATED and "loyalty scheme" in tier.reason


def test_the_airflow_gate_fails_before_anything_is_written(planted, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    from clinic2zoho_airflow.operators.mapping_gate import MappingGateOperator

    warehouse, dbt = planted
    monkeypatch.setenv("CLINIC2ZOHO_WAREHOUSE", str(warehouse))
    op = MappingGateOperator(task_id="mapping_gate", dbt_project_dir=str(dbt))
    with pytest.raises(AirflowFailException, match="loyalty_tier"):
        op.execute({})


def test_a_staging_model_reading_a_column_accounts_for_it(planted):
    warehouse, dbt = planted
    model = dbt / "models" / "staging" / "generic" / "stg_generic__patients.sql"
    model.write_text(model.read_text().replace("        primary_provider_id,\n",
                                               "        primary_provider_id,\n        loyalty_tier,\n"))
    tier = _accounting(warehouse, dbt)[("raw.generic__patients", "loyalty_tier")]
    assert tier.status == ca.READ and tier.target == "stg_generic__patients"


def test_a_vendor_layout_is_read_through_its_source_map(tmp_path):
    """Landed vendor headers get the mapping file's clinic-model names through raw._source_map; a
    vendor column the source map leaves out of the clinic model (`column: null`) is not migrated,
    with the map's reason: the person who confirmed the map decided it."""
    doc = source_map.new_source_map("acme", {"patients": {
        "file": "Patient List.csv", "key": "Patient ID", "columns": [
            {"source": "Patient ID", "column": "patient_id"},
            {"source": "Patient Name", "column": ["first_name", "last_name"], "parse": "name",
             "format": "last_first"},
            {"source": "Loyalty", "column": None}]}})
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute('CREATE TABLE raw.generic__patients (patient_id VARCHAR, patient_name VARCHAR, '
                    'loyalty VARCHAR, _source_file VARCHAR, _source_row BIGINT)')
        map_path = tmp_path / "acme.yml"
        source_map.write_source_map(doc, map_path)
        source_map.record_in_warehouse(con, doc, map_path)
    rows = _accounting(warehouse)
    name = rows[("raw.generic__patients", "patient_name")]
    assert name.status == ca.MIGRATED and name.target == "Contacts.First_Name, Contacts.Last_Name"
    assert "source map: patient_name → first_name + last_name" in name.rule
    loyalty = rows[("raw.generic__patients", "loyalty")]
    assert loyalty.status == ca.NOT_MIGRATED and "left out by the export's source map" in loyalty.reason
    assert ("raw.generic__patients", "_source_file") not in rows


def test_the_review_page_lists_every_column_those_without_a_reason_first(planted, tmp_path):
    warehouse, dbt = planted
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = ca.account(con, dbt)
    mapping = files.read_mapping(files.mapping_path("generic", dbt))
    page = write_review(mapping, tmp_path / "review.html", rows).read_text()
    section = page.split("<h2>Every source column</h2>", 1)[1]
    assert section.index("loyalty_tier") < section.index("workflow_id") < section.index("Contacts.Email")
    assert f"{len(rows)} landed columns" in section
