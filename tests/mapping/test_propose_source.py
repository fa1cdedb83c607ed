"""`clinic2zoho propose --source DIR` on an export in a vendor layout with no manifest: the source
map and its review page are written, the export lands through the map, and the Zoho-side mapping
is proposed over the clinic model's names (so the columns it says the models map are the ones
staging reads)."""

from __future__ import annotations

import csv
import json

import duckdb
import yaml

from clinic2zoho.cli import main
from clinic2zoho.generator import generate_export
from clinic2zoho.generator.layouts import write_layout
from clinic2zoho.mapping import source_map


def test_propose_source_writes_the_map_lands_and_proposes(tmp_path, work_home, dbt_copy, capsys):
    generate_export(tmp_path / "gen", 40, seed=3, with_files=False, defects=False)
    out = tmp_path / "layout"
    export = write_layout(tmp_path / "gen" / "export", "camel_case", out)
    truth = json.loads((out / "truth.json").read_text())
    assert not (export / "manifest.json").exists()

    assert main(["propose", "--source", str(export), "--offline"]) == 0
    printed = capsys.readouterr().out
    map_path = source_map.source_map_path(source_map.export_name(export), dbt_copy)
    assert f"source map: {map_path}" in printed
    assert (work_home / "reports" / f"source_map_review_{source_map.export_name(export)}.html").is_file()
    doc = source_map.read_source_map(map_path)
    # every file the truth names is assigned to its entity
    assert {spec["file"]: entity for entity, spec in doc["entities"].items()} == {
        f["file"]: f["entity"] for f in truth["files"] if f.get("entity")}

    with duckdb.connect(str(work_home / "warehouse.duckdb"), read_only=True) as con:
        landed = dict(con.execute("select entity, count(*) from raw._source_map group by entity").fetchall())
        patients = con.execute("select count(*) from raw.generic__patients").fetchone()[0]
    with open(tmp_path / "gen" / "export" / "patients.csv", encoding="utf-8", newline="") as fh:
        exported = sum(1 for _ in csv.reader(fh)) - 1
    assert set(landed) == set(doc["entities"]) and patients == exported

    mapping = yaml.safe_load((dbt_copy / "mapping" / "generic.yml").read_text())
    patients_entity = next(e for e in mapping["entities"] if e["entity"] == "patients")
    columns = {f["column"] for f in patients_entity.get("fields") or []}
    # the proposal speaks the clinic model's names for mapped columns, not the vendor's headers
    assert {"birth_date", "first_name", "email"} <= columns
    assert not any(c in columns for c in ("dateOfBirth", "date_of_birth", "firstName"))


def test_propose_source_keeps_a_filed_map(tmp_path, work_home, dbt_copy, capsys):
    generate_export(tmp_path / "gen", 20, seed=4, with_files=False, defects=False)
    export = write_layout(tmp_path / "gen" / "export", "german", tmp_path / "layout")
    assert main(["propose", "--source", str(export), "--offline"]) == 0
    map_path = source_map.source_map_path(source_map.export_name(export), dbt_copy)
    edited = map_path.read_text(encoding="utf-8") + "# reviewed\n"
    map_path.write_text(edited, encoding="utf-8")
    capsys.readouterr()
    assert main(["propose", "--source", str(export), "--offline"]) == 0
    assert map_path.read_text(encoding="utf-8") == edited  # a person's edits are never overwritten
