"""Values staging cannot read never make dbt raise: they load empty and are named, by file, row and
field, in the gate's warnings and in the Data Quality Report. One warehouse holds a generated
generic export with unreadable claim amounts and the shared Synthea export with AMOUNT=abc (the
project builds every landed format at once), so one dbt build covers both."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from clinic2zoho.generator import generate_export
from clinic2zoho.landing import land_export, land_users
from clinic2zoho.quality import build_quality_report
from clinic2zoho.transform import run_dbt
from clinic2zoho.transform.dbt_runner import export_vars
from tests.dbt.conftest import DEMO, BuiltWarehouse

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_unparsed")]

BAD_AMOUNTS = ["abc", "12,50", "$1,000.00", "NaN"]  # the first claims' amount_billed, in order
# (file, row, column as in the header, value) planted in the Synthea copy
SYNTHEA_BAD = [("claims_transactions.csv", 1, "AMOUNT", "abc"), ("claims.csv", 2, "OUTSTANDING1", "inf")]


def _set_values(path: Path, column: str, values: dict[int, str]) -> None:
    """Overwrite `column` of the given data rows (1 = first row after the header)."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    index = rows[0].index(column)
    for row, value in values.items():
        rows[row][index] = value
    path.unlink()  # the shared export's copies are read-only
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


@pytest.fixture(scope="module")
def exports(tmp_path_factory, synthea_dir):
    root = tmp_path_factory.mktemp("unparsed")
    generic = generate_export(root / "gen", 40, seed=5, with_files=False, defects=False)
    _set_values(generic.export_dir / "claims.csv", "amount_billed", dict(enumerate(BAD_AMOUNTS, start=1)))
    synthea = root / "synthea"
    shutil.copytree(synthea_dir, synthea)
    for name, row, column, value in SYNTHEA_BAD:
        _set_values(synthea / name, column, {row: value})
    return generic, synthea


@pytest.fixture(scope="module")
def warehouse(exports, tmp_path_factory) -> BuiltWarehouse:
    generic, synthea = exports
    work = tmp_path_factory.mktemp("unparsed-wh")
    path = work / "warehouse.duckdb"
    land_export(generic.export_dir, "generic", warehouse=path)
    land_export(synthea, "synthea", warehouse=path)
    demo = DEMO / "synthea_ma27"
    users = [json.loads(p.read_text(encoding="utf-8")) for p in (generic.zoho_users_path, demo / "zoho_users.json")]
    land_users(users[0] + users[1], "production", warehouse=path)
    overrides = work / "provider_email_overrides.csv"
    overrides.write_text(
        generic.overrides_path.read_text(encoding="utf-8")
        + "".join((demo / "provider_email_overrides.csv").read_text(encoding="utf-8").splitlines(True)[1:]),
        encoding="utf-8")
    dbt_vars = {**export_vars(generic.export_dir, "generic"), "provider_email_overrides_file": str(overrides)}
    return BuiltWarehouse(path, run_dbt(["build"], warehouse=path, vars=dbt_vars), dbt_vars)


def _expected(exports) -> set[tuple[str, int, str, str]]:
    generic, synthea = exports
    claims = str(generic.export_dir / "claims.csv")
    found = {(claims, row, "amount_billed", value) for row, value in enumerate(BAD_AMOUNTS, start=1)}
    return found | {(str(synthea / name), row, column.lower(), value) for name, row, column, value in SYNTHEA_BAD}


def test_the_build_does_not_raise_and_the_values_load_empty(warehouse):
    result = warehouse.result
    assert result.success, result.summary()
    assert warehouse.scalar(
        "select count(*) from staging.stg_generic__claims where _source_row <= 4 and amount_billed is null") == 4
    assert warehouse.scalar(
        "select count(*) from staging.stg_synthea__claims_transactions where _source_row = 1 and amount is null") == 1


def test_the_gate_warns_naming_file_row_and_field_but_not_the_value(warehouse, exports):
    warning = next((w for w in warehouse.result.warnings if w.name == "warn_unparsed_values"), None)
    assert warning is not None, warehouse.result.summary()
    assert warning.failures == len(_expected(exports))
    named = {(row["source_file"], row["source_row"], row["field"]) for row in warning.rows}
    assert named == {(f, r, c) for f, r, c, _ in _expected(exports)}
    assert all("value" not in row for row in warning.rows)
    listed = set(warehouse.query("select source_file, source_row, field, value from audit.unparsed_values"))
    assert listed == _expected(exports)


def test_the_data_quality_report_lists_each_value_with_file_row_and_field(warehouse, tmp_path):
    report = build_quality_report(warehouse.path, tmp_path)
    assert report["summary"]["unparsed_values"] == len(BAD_AMOUNTS) + len(SYNTHEA_BAD)
    listed = {(i["source_file"], i["source_row"], f["field"], i["value"])
              for s in report["sources"] for f in s["unparsed_values"] for i in f["items"]}
    assert listed == set(warehouse.query("select source_file, source_row, field, value from audit.unparsed_values"))
    saved = json.loads(Path(report["paths"]["json"]).read_text(encoding="utf-8"))
    assert saved["summary"]["unparsed_values"] == report["summary"]["unparsed_values"]
    html = Path(report["paths"]["html"]).read_text(encoding="utf-8")
    section = html[html.index("Values the mapping cannot read ("):]
    for file, row, field, value in listed:
        line = next(li for li in section.splitlines() if f"<td>{file}</td>" in li and f">{row}</td>" in li)
        assert f".{field}</td>" in line and f"<code>{value}</code>" in line
