"""The confirmed mapping file drives what dbt reads: the value-map seeds are written from it, a
new custom field confirmed in it becomes a column of its Zoho model with no SQL edit (and a Zoho
field through prepare-schema), and the dbt test comparing the file with the models fails with a
readable list when they disagree. Real dbt builds on a small generated export."""

from __future__ import annotations

import csv
import shutil

import duckdb
import pytest
import yaml

from clinic2zoho.generator import generate_export
from clinic2zoho.landing import land_export, land_users
from clinic2zoho.mapping import confirmation, seeds
from clinic2zoho.mapping.files import mapping_path, read_mapping
from clinic2zoho.mapping.gate import MappingNotConfirmed, require_confirmed
from clinic2zoho.mapping.propose_command import propose_mapping
from clinic2zoho.mapping.schema_command import prepare_schema
from clinic2zoho.settings import DBT_PROJECT_DIR
from clinic2zoho.transform import run_dbt
from clinic2zoho.transform.dbt_runner import export_vars
from tests.mapping.conftest import client_for

LANGUAGES = ["English", "Spanish", "Portuguese", "Haitian Creole"]


def _add_language_column(patients_csv) -> dict[str, str]:
    """A clinic-specific column the standard models do not map: each patient's language."""
    with patients_csv.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0]) + ["preferred_language"]
    chosen = {}
    for i, row in enumerate(rows):
        row["preferred_language"] = LANGUAGES[i % len(LANGUAGES)]
        chosen[row["patient_id"]] = row["preferred_language"]
    with patients_csv.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return chosen


@pytest.fixture
def custom_field_export(tmp_path, work_home, dbt_copy):
    gen = generate_export(tmp_path / "gen", 150, seed=5, with_files=False, defects=False)
    languages = _add_language_column(gen.export_dir / "patients.csv")
    warehouse = work_home / "warehouse.duckdb"
    land_export(gen.export_dir, "generic", warehouse)
    land_users(gen.zoho_users_path, "production", warehouse=warehouse)
    shutil.copy(DBT_PROJECT_DIR / "profiles.yml", dbt_copy / "profiles.yml")
    dbt_vars = {**export_vars(gen.export_dir, "generic"), "provider_email_overrides_file": str(gen.overrides_path)}
    return gen, languages, warehouse, dbt_vars


@pytest.mark.xdist_group("mapping_dbt")
def test_a_confirmed_custom_field_reaches_zoho_contacts_and_the_zoho_schema(custom_field_export, dbt_copy, zoho_server):
    gen, languages, warehouse, dbt_vars = custom_field_export
    sql_before = {p.name: p.read_text() for p in (dbt_copy / "models" / "zoho").glob("*.sql")}
    client = client_for(zoho_server)
    path, _, mapping = propose_mapping("generic", warehouse, dbt_copy, client)
    choice = next(f for e in mapping["entities"] if e["entity"] == "patients" for f in e["fields"]
                  if f["column"] == "preferred_language")
    assert choice["target"] == "Contacts.Preferred_Language" and choice["new_field"]
    assert choice["carried_by"] == "clinic_extra_columns" and choice["data_type"] == "picklist"
    confirmation.confirm("test reviewer", dbt_copy)

    result = run_dbt(["build"], warehouse=warehouse, vars=dbt_vars, project_dir=dbt_copy)
    assert result.success, result.summary()
    assert result.node_status["test.clinic2zoho.assert_mapping_matches_zoho_models"] == "pass"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = dict(con.execute("select Clinic_Patient_Id, Preferred_Language from zoho.zoho_contacts").fetchall())
    assert rows and all(rows[pid] == languages[pid] for pid in rows)
    assert {p.name: p.read_text() for p in (dbt_copy / "models" / "zoho").glob("*.sql")} == sql_before  # no SQL edit

    lines: list[str] = []
    prepare_schema(client, dbt_copy, run_id="run-lang", warehouse=warehouse, log=lines.append)
    field = {f["api_name"]: f for f in client.fields("Contacts")}["Preferred_Language"]
    assert field["data_type"] == "picklist"
    assert {v["actual_value"] for v in field["pick_list_values"]} >= set(LANGUAGES)
    # every model column that is not a standard field exists in Zoho after schema preparation
    for module, model in (("Contacts", "zoho_contacts"), ("Tasks", "zoho_tasks"), ("Leads", "zoho_leads"),
                          ("Billing_History", "zoho_billing_history"), ("Treatments", "zoho_treatments")):
        with duckdb.connect(str(warehouse), read_only=True) as con:
            columns = {r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_schema = 'zoho' and table_name = ?",
                [model]).fetchall()}
        live = {f["api_name"] for f in client.fields(module)}
        assert columns <= live, (module, sorted(columns - live))


@pytest.mark.xdist_group("mapping_dbt")
def test_value_maps_are_edited_in_the_mapping_file_and_written_to_the_seeds(generic_warehouse, dbt_copy):
    path, _, _ = propose_mapping("generic", generic_warehouse, dbt_copy)
    seed = dbt_copy / "seeds" / "referral_source_map.csv"
    assert "google ads,Online Search" in seed.read_text()
    confirmation.confirm("test reviewer", dbt_copy)
    # a clinic moves "google ads" to Advertising in the YAML; confirm writes the seed, hashed with it
    doc = read_mapping(path)
    for value in doc["value_maps"]["referral_source_map"]["values"]:
        if value["source"] == "google ads":
            value["zoho"] = "Advertising"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    with pytest.raises(MappingNotConfirmed, match="changed: mapping/generic.yml"):
        require_confirmed(dbt_copy)
    record = confirmation.confirm("second reviewer", dbt_copy)
    assert "google ads,Advertising" in seed.read_text()
    assert record.files["seeds/referral_source_map.csv"] and require_confirmed(dbt_copy)
    # a hand edit of the generated CSV blocks the load, and the next confirmation replaces it
    seed.write_text(seed.read_text().replace("google ads,Advertising", "google ads,Website"))
    with pytest.raises(MappingNotConfirmed, match="changed: seeds/referral_source_map.csv"):
        require_confirmed(dbt_copy)
    confirmation.confirm("third reviewer", dbt_copy)
    assert "google ads,Advertising" in seed.read_text()


def test_two_files_that_map_one_value_differently_are_refused(generic_warehouse, dbt_copy):
    path, _, _ = propose_mapping("generic", generic_warehouse, dbt_copy)
    doc = read_mapping(path)
    other = {**doc, "format": "synthea"}
    other["value_maps"] = {"claim_status_map": {**doc["value_maps"]["claim_status_map"], "values": [
        {"source": "paid", "zoho": "Closed"}]}}
    mapping_path("synthea", dbt_copy).write_text(yaml.safe_dump(other, sort_keys=False))
    with pytest.raises(seeds.SeedConflict, match=r"'paid' maps to 'Paid' in mapping/generic.yml but to 'Closed' in mapping/synthea.yml"):
        confirmation.confirm("test reviewer", dbt_copy)


@pytest.mark.xdist_group("mapping_dbt")
def test_a_model_that_disagrees_with_the_file_fails_the_build_with_a_readable_list(custom_field_export, dbt_copy):
    _, _, warehouse, dbt_vars = custom_field_export
    propose_mapping("generic", warehouse, dbt_copy)
    model = dbt_copy / "models" / "zoho" / "zoho_treatments.sql"
    model.write_text(model.read_text().replace("treatments.outcome as Outcome", "treatments.outcome as Result"))
    # the test and every model and seed it reads, built for real; not the other tests of those models
    result = run_dbt(["build", "--select", "+assert_mapping_matches_zoho_models", "--indirect-selection", "empty"],
                     warehouse=warehouse, vars=dbt_vars, project_dir=dbt_copy)
    assert not result.success
    failure = next(e for e in result.errors if e.name == "assert_mapping_matches_zoho_models")
    problems = {(r["zoho_model"], r["column_name"]): r["problem"] for r in failure.rows}
    assert problems == {
        ("zoho_treatments", "Outcome"): "named in the mapping file as mapped (generic), planned (generic), not a column of the model",
        ("zoho_treatments", "Result"): "a column of the model, no target field in the mapping files",
    }
