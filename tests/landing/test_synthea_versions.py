"""Synthea exports from 3.0 to the current release land with one raw spelling per column.

The 3.1+ fixture is the shared 3.0 export rewritten in tmp_path with the headers Synthea's CSV
exporter writes since 3.1 (its public repository's CSVExporter and CSV data dictionary): renamed
payer_transitions columns, columns added to patients, providers, payers, conditions and procedures,
and providers' UTILIZATION gone."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from clinic2zoho.landing import LandingError, land_export, land_users
from clinic2zoho.landing.synthea import renames_for
from clinic2zoho.transform import run_dbt

from tests.conftest import ROOT

from .conftest import csv_record_count, query

pytestmark = pytest.mark.xdist_group("landing_synthea_versions")

DEMO = ROOT / "demo" / "synthea_ma27"
# Headers as Synthea 3.1+ writes them (files not listed kept their 3.0 header).
HEADERS_31 = {
    "patients": "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,MIDDLE,LAST,SUFFIX,MAIDEN,MARITAL,RACE,"
                "ETHNICITY,GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,FIPS,ZIP,LAT,LON,HEALTHCARE_EXPENSES,"
                "HEALTHCARE_COVERAGE,INCOME",
    "providers": "Id,ORGANIZATION,NAME,GENDER,SPECIALITY,ADDRESS,CITY,STATE,ZIP,LAT,LON,ENCOUNTERS,PROCEDURES",
    "payers": "Id,NAME,OWNERSHIP,ADDRESS,CITY,STATE_HEADQUARTERED,ZIP,PHONE,AMOUNT_COVERED,AMOUNT_UNCOVERED,"
              "REVENUE,COVERED_ENCOUNTERS,UNCOVERED_ENCOUNTERS,COVERED_MEDICATIONS,UNCOVERED_MEDICATIONS,"
              "COVERED_PROCEDURES,UNCOVERED_PROCEDURES,COVERED_IMMUNIZATIONS,UNCOVERED_IMMUNIZATIONS,"
              "UNIQUE_CUSTOMERS,QOLS_AVG,MEMBER_MONTHS",
    "payer_transitions": "PATIENT,MEMBERID,START_DATE,END_DATE,PAYER,SECONDARY_PAYER,PLAN_OWNERSHIP,OWNER_NAME",
    "conditions": "START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION",
    "procedures": "START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION,BASE_COST,REASONCODE,REASONDESCRIPTION",
}
# 3.1+ name -> the 3.0 column holding the same values
FROM_30 = {"START_DATE": "START_YEAR", "END_DATE": "END_YEAR", "PLAN_OWNERSHIP": "OWNERSHIP",
           "OWNER_NAME": "OWNERNAME", "ENCOUNTERS": "UTILIZATION"}
# what the new columns hold in the fixture (never read by staging; they must land all the same)
ADDED = {"MIDDLE": "", "FIPS": "25017", "INCOME": "61000", "PROCEDURES": "0", "OWNERSHIP": "PRIVATE",
         "SYSTEM": "SNOMED-CT"}


def rewrite(src: Path, dest: Path, header: list[str], fill: dict[str, str] | None = None) -> None:
    """`src` written to `dest` with `header`: each column's values from the same-named (or FROM_30)
    source column, added columns filled, source columns not in `header` dropped."""
    fill = {**ADDED, **(fill or {})}
    with src.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        source_header = next(rows)
        where = {name: i for i, name in enumerate(source_header)}
        picks = [where.get(FROM_30.get(name, name)) for name in header]
        with dest.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(header)
            for row in rows:
                writer.writerow([row[i] if i is not None else fill[name] for i, name in zip(picks, header)])


def as_synthea_31(synthea_dir: Path, dest: Path) -> Path:
    dest.mkdir()
    for path in sorted(synthea_dir.glob("*.csv")):
        if path.stem in HEADERS_31:
            rewrite(path, dest / path.name, HEADERS_31[path.stem].split(","))
        else:
            (dest / path.name).write_bytes(path.read_bytes())
    return dest


@pytest.fixture(scope="module")
def landed_31(synthea_dir: Path, tmp_path_factory):
    export = as_synthea_31(synthea_dir, tmp_path_factory.mktemp("synthea31") / "export")
    warehouse = export.parent / "warehouse.duckdb"
    return export, warehouse, land_export(export, warehouse=warehouse)


def test_the_fixture_has_the_31_headers(landed_31):
    export, _, _ = landed_31
    for stem, header in HEADERS_31.items():
        with (export / f"{stem}.csv").open(newline="", encoding="utf-8") as handle:
            assert next(csv.reader(handle)) == header.split(","), stem


def test_a_31_export_lands_every_file_with_the_30_counts(synthea_dir, landed_31):
    export, warehouse, result = landed_31
    assert result.format == "synthea"  # detected: the 3.1+ patients header is still Synthea's
    by_entity = result.by_entity()
    assert len(by_entity) == 18
    for path in sorted(synthea_dir.glob("*.csv")):
        expected = csv_record_count(path)
        assert csv_record_count(export / path.name) == expected
        assert by_entity[path.stem] == {"read": expected, "landed": expected, "unchanged": 0, "rejected": 0}, path.stem
    assert query(warehouse, "SELECT count(*) FROM raw.raw_rejects")[0][0] == 0


def test_renamed_columns_land_under_the_30_name_and_added_ones_are_carried(synthea_dir, landed_31):
    _, warehouse, _ = landed_31

    def columns(table: str) -> set[str]:
        return {r[0] for r in query(warehouse, "SELECT column_name FROM information_schema.columns "
                                               "WHERE table_schema = 'raw' AND table_name = ?", [table])}

    transitions = columns("synthea__payer_transitions")
    assert {"start_year", "end_year", "ownership", "ownername"} <= transitions
    assert not {"start", "start_date", "end_date", "plan_ownership", "owner_name"} & transitions
    assert {"middle", "fips", "income"} <= columns("synthea__patients")
    assert {"encounters", "procedures"} <= columns("synthea__providers")
    assert "utilization" not in columns("synthea__providers")
    assert "ownership" in columns("synthea__payers")
    assert "system" in columns("synthea__conditions") and "system" in columns("synthea__procedures")
    # the values came through: START_DATE of the 3.1+ file is the 3.0 file's START_YEAR, row by row
    with (synthea_dir / "payer_transitions.csv").open(newline="", encoding="utf-8") as handle:
        starts = [row["START_YEAR"] for row in csv.DictReader(handle)]
    landed = query(warehouse, "SELECT start_year FROM raw.synthea__payer_transitions ORDER BY _source_row")
    assert [r[0] for r in landed] == starts
    assert query(warehouse, "SELECT DISTINCT income FROM raw.synthea__patients") == [("61000",)]


@pytest.mark.slow
def test_a_31_export_builds_and_maps_as_the_30_one(landed_31, synthea_dir):
    _, warehouse, _ = landed_31
    land_users(DEMO / "zoho_users.json", "production", warehouse=warehouse)
    built = run_dbt(["build"], warehouse=warehouse,
                    vars={"provider_email_overrides_file": str(DEMO / "provider_email_overrides.csv")})
    assert built.success, built.summary()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        def count(sql: str) -> int:
            return con.execute(sql).fetchone()[0]

        transitions = con.execute("SELECT count(*), count(starts_at), count(ends_at) "
                                  "FROM staging.stg_synthea__payer_transitions").fetchone()
        assert transitions == (csv_record_count(synthea_dir / "payer_transitions.csv"),) * 3
        assert count("SELECT count(provider_name) FROM staging.stg_synthea__providers") == \
            csv_record_count(synthea_dir / "providers.csv")
        assert count("SELECT count(*) FROM zoho.zoho_contacts") == csv_record_count(synthea_dir / "patients.csv")
        assert count("SELECT count(*) FROM zoho.zoho_events") == csv_record_count(synthea_dir / "encounters.csv")
        assert count("SELECT count(*) FROM zoho.zoho_billing_history") == csv_record_count(synthea_dir / "claims.csv")
        assert count("SELECT sum(unaccounted_rows) FROM audit.row_conservation WHERE source_format = 'synthea'") == 0


def test_a_start_date_is_start_in_the_files_that_have_a_start():
    # the 3.1+ payer_transitions rename stays in its file: elsewhere START_DATE still means START
    assert renames_for("payer_transitions")["start_date"] == "start_year"
    assert renames_for("encounters")["start_date"] == "start"
    assert renames_for("claims")["patient_id"] == "patientid"
    assert "start_date" not in renames_for("claims")


def _export_with(synthea_dir: Path, folder: Path, stem: str, header: list[str], fill: dict[str, str]) -> Path:
    folder.mkdir()
    (folder / "patients.csv").write_bytes((synthea_dir / "patients.csv").read_bytes())
    rewrite(synthea_dir / f"{stem}.csv", folder / f"{stem}.csv", header, fill)
    return folder


def test_a_missing_required_column_names_the_header_and_the_nearest_columns(synthea_dir, tmp_path):
    # a 3.1+ payer_transitions whose START_DATE a spreadsheet renamed to "Start Dt"
    header = HEADERS_31["payer_transitions"].replace("START_DATE", "Start Dt").split(",")
    export = _export_with(synthea_dir, tmp_path / "export", "payer_transitions", header,
                          {"Start Dt": "2014-10-14T04:17:47Z"})
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(LandingError) as caught:
        land_export(export, "synthea", warehouse=warehouse)
    message = str(caught.value)
    assert "payer_transitions.csv" in message and caught.value.field == "START_YEAR"
    assert "START_YEAR or START_DATE is missing" in message
    assert "the header has PATIENT, MEMBERID, Start Dt, END_DATE, PAYER" in message
    assert message.split("nearest: ")[1].startswith("Start Dt")
    assert "2014-10-14" not in message  # names only, never a value
    assert not warehouse.exists()


def test_a_missing_column_with_no_near_name_says_so(synthea_dir, tmp_path):
    header = ["Id", "START", "STOP", "ORGANIZATION", "PROVIDER", "PAYER", "ENCOUNTERCLASS", "CODE"]
    export = _export_with(synthea_dir, tmp_path / "export", "encounters", header, {})
    with pytest.raises(LandingError, match=r"encounters\.csv.*PATIENT or PATIENTID or PATIENT_ID is missing.*"
                                           r"the header has Id, START, STOP, ORGANIZATION") as caught:
        land_export(export, "synthea", warehouse=tmp_path / "w.duckdb")
    assert caught.value.field == "PATIENT"


def test_an_unknown_added_column_is_carried_not_fatal(synthea_dir, tmp_path):
    header = [*next(csv.reader((synthea_dir / "encounters.csv").open(encoding="utf-8"))), "VENDOR_NOTE"]
    export = _export_with(synthea_dir, tmp_path / "export", "encounters", header, {"VENDOR_NOTE": "n/a"})
    warehouse = tmp_path / "w.duckdb"
    result = land_export(export, "synthea", warehouse=warehouse)
    assert result.by_entity()["encounters"]["landed"] == csv_record_count(synthea_dir / "encounters.csv")
    assert query(warehouse, "SELECT DISTINCT vendor_note FROM raw.synthea__encounters") == [("n/a",)]
