"""FHIR R4 resources carrying extensions and elements no version of this project knows land as the
same rows: the flattened columns are those of the plain resources, and the resource text keeps
everything, unknown parts included."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from clinic2zoho.landing import land_export
from clinic2zoho.landing.fhir import columns_for
from clinic2zoho.transform import run_dbt

from .conftest import query

pytestmark = pytest.mark.xdist_group("landing_fhir_drift")

FILES = ("Patient.000.ndjson", "Encounter.000.ndjson", "Practitioner.000.ndjson", "Organization.000.ndjson")
LINES = 4
UNKNOWN = "http://vendor.example/fhir/StructureDefinition/"


def _extension(name: str) -> dict:
    """An extension of a kind no profile here knows: nested, with value[x] types of every shape."""
    return {"url": UNKNOWN + name, "extension": [
        {"url": "code", "valueCodeableConcept": {"coding": [{"system": UNKNOWN + "cs", "code": "X1"}]}},
        {"url": "when", "valuePeriod": {"start": "2031-01-01T00:00:00+10:00"}},
        {"url": "count", "valueInteger64": "9223372036854775807"},
        {"url": "ratio", "valueDecimal": 1e-30},
        {"url": "flag", "valueBoolean": True},
        {"url": "empty", "valueString": ""},
    ]}


def with_drift(resource: dict) -> dict:
    """The resource with unknown extensions at every level, primitive extensions (`_birthDate`),
    a modifierExtension and elements from outside R4."""
    drifted = json.loads(json.dumps(resource))
    drifted["extension"] = [*drifted.get("extension", []), _extension("resource-level")]
    drifted["modifierExtension"] = [{"url": UNKNOWN + "modifier", "valueBoolean": False}]
    drifted["futureElement"] = {"nested": [{"deeper": [1, 2.5, None, "x"]}], "flag": True}
    drifted["_id"] = {"extension": [_extension("on-the-id")]}
    for key in ("birthDate", "gender", "status"):
        if key in drifted:
            drifted["_" + key] = {"extension": [_extension("on-" + key)]}
    for key in ("name", "address", "telecom", "identifier", "participant", "type"):
        for element in drifted.get(key, []):
            if isinstance(element, dict):
                element["extension"] = [*element.get("extension", []), _extension("on-" + key)]
                element["vendorOnly"] = {"text": "not in R4"}
    if "period" in drifted:
        drifted["period"]["extension"] = [_extension("on-period")]
    return drifted


def build(fhir_dir: Path, folder: Path, drift: bool) -> Path:
    folder.mkdir()
    for name in FILES:
        lines = (fhir_dir / name).read_text(encoding="utf-8").splitlines()[:LINES]
        resources = [json.loads(line) for line in lines]
        if drift:
            resources = [with_drift(r) for r in resources]
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def landed(fhir_dir: Path, tmp_path_factory):
    root = tmp_path_factory.mktemp("fhir_drift")
    out = {}
    for drift in (False, True):
        export = build(fhir_dir, root / f"export_{drift}", drift)
        warehouse = root / f"w_{drift}.duckdb"
        out[drift] = (export, warehouse, land_export(export, "fhir", warehouse=warehouse))
    return out


def test_resources_with_unknown_parts_land_every_line(landed):
    _, warehouse, result = landed[True]
    for entity, counts in result.by_entity().items():
        assert counts == {"read": LINES, "landed": LINES, "unchanged": 0, "rejected": 0}, entity
    assert query(warehouse, "SELECT count(*) FROM raw.raw_rejects")[0][0] == 0


def test_flattened_columns_are_those_of_the_plain_resources(landed):
    for entity in ("patient", "encounter", "practitioner", "organization"):
        flat = [c for c in columns_for(entity) if c != "resource"]
        sql = f"SELECT {', '.join(f'{chr(34)}{c}{chr(34)}' for c in flat)} FROM raw.fhir__{entity} ORDER BY id"
        plain = query(landed[False][1], sql)
        drifted = query(landed[True][1], sql)
        assert drifted == plain and len(plain) == LINES, entity
        # something was flattened, not only ids: the comparison is not between empty columns
        assert any(v is not None for row in plain for v in row[1:]), entity


def test_the_resource_text_keeps_the_unknown_parts(landed):
    export, warehouse, _ = landed[True]
    first = json.loads((export / "Patient.000.ndjson").read_text(encoding="utf-8").splitlines()[0])
    stored = json.loads(query(warehouse, "SELECT resource FROM raw.fhir__patient WHERE id = ?", [first["id"]])[0][0])
    assert stored == first
    assert stored["futureElement"]["nested"][0]["deeper"] == [1, 2.5, None, "x"]
    assert stored["extension"][-1]["url"] == UNKNOWN + "resource-level"


@pytest.mark.slow
def test_fhir_staging_builds_on_the_drifted_resources(landed):
    _, plain_wh, _ = landed[False]
    _, warehouse, _ = landed[True]
    built = run_dbt(["build", "--select", "path:models/staging/fhir"], warehouse=warehouse)
    assert built.success, built.summary()
    assert run_dbt(["build", "--select", "path:models/staging/fhir"], warehouse=plain_wh).success
    sql = ("SELECT patient_id, first_name, last_name, birth_date, sex, state, postal_code "
           "FROM staging.stg_fhir__patient ORDER BY patient_id")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        drifted = con.execute(sql).fetchall()
    with duckdb.connect(str(plain_wh), read_only=True) as con:
        plain = con.execute(sql).fetchall()
    assert drifted == plain and len(plain) == LINES
