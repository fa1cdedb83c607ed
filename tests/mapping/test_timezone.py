"""The clinic's time zone proposed from the patients' addresses: by state, province or country, the
most common zone winning, the reason in counts; a run whose param and manifest name no zone uses
it, so an Australian export's Events carry Melbourne's offsets, not New York's."""

from __future__ import annotations

import csv
import json
import logging
import re
from pathlib import Path

import duckdb
import pytest

from clinic2zoho.landing import land_users
from clinic2zoho.mapping.timezone import DEFAULT_ZONE, propose_timezone, timezone_from_warehouse
from clinic2zoho.orchestration.steps import land_source
from clinic2zoho.transform import run_dbt
from clinic2zoho.transform.dbt_runner import export_vars
from tests.conftest import ROOT

DEMO = ROOT / "demo" / "synthea_ma27"


@pytest.mark.parametrize(("states", "zone"), [
    (["VIC", "Victoria", "vic"], "Australia/Melbourne"),
    (["NSW", "New South Wales"], "Australia/Sydney"),
    (["QLD", "Queensland"], "Australia/Brisbane"),
    (["WA", "Western Australia", "NSW"], "Australia/Perth"),
    (["SA", "South Australia"], "Australia/Adelaide"),
    (["TAS", "Tasmania"], "Australia/Hobart"),
    (["ACT", "Australian Capital Territory"], "Australia/Sydney"),
    (["NT", "Northern Territory", "VIC"], "Australia/Darwin"),
    (["Massachusetts", "MA"], "America/New_York"),
    (["Texas", "TX"], "America/Chicago"),  # spans Central and Mountain: El Paso is the smaller part
    (["Florida"], "America/New_York"),  # the panhandle's Central time is the smaller part
    (["Arizona"], "America/Phoenix"),
    (["Hawaii"], "Pacific/Honolulu"),
    (["Ontario", "ON", "QC"], "America/Toronto"),
    (["British Columbia"], "America/Vancouver"),
    (["Saskatchewan"], "America/Regina"),
])
def test_states_and_provinces_give_their_zone(states, zone):
    choice = propose_timezone(states, [])
    assert choice.zone == zone
    assert choice.confidence > 0


@pytest.mark.parametrize(("countries", "zone"), [
    (["NZ", "New Zealand"], "Pacific/Auckland"),
    (["UK", "GB", "United Kingdom"], "Europe/London"),
    (["Ireland", "IE"], "Europe/Dublin"),
    (["Germany", "DE", "DEU"], "Europe/Berlin"),
    (["France"], "Europe/Paris"),
    (["Spain", "ES"], "Europe/Madrid"),
])
def test_single_zone_countries_need_no_state(countries, zone):
    assert propose_timezone([None] * len(countries), countries).zone == zone


def test_the_most_common_zone_wins_and_the_reason_has_only_counts():
    states = ["Victoria"] * 6 + ["NSW"] * 3 + ["Queensland", "Atlantis", None, ""]
    choice = propose_timezone(states, [])
    assert choice.zone == "Australia/Melbourne"
    assert choice.confidence == round(6 / 11, 3)  # 11 addresses name something; the blank ones nothing
    assert "Australia/Melbourne 6 (60%)" in choice.reason and "Australia/Sydney 3 (30%)" in choice.reason
    assert "1 address(es) could not be placed" in choice.reason
    assert not re.search(r"Victoria|NSW|Queensland|Atlantis", choice.reason)


def test_an_ambiguous_state_takes_the_country_of_the_other_addresses():
    # WA is Washington or Western Australia; NT the Northwest or the Northern Territory
    assert propose_timezone(["WA", "WA", "VIC"], []).zone == "Australia/Perth"
    assert propose_timezone(["WA", "WA", "Oregon"], []).zone == "America/Los_Angeles"
    assert propose_timezone(["WA"], ["Australia"]).zone == "Australia/Perth"
    assert propose_timezone(["NT", "NT", "Alberta"], []).zone == "America/Edmonton"
    assert propose_timezone(["WA"], [], ["98101"]).zone == "America/Los_Angeles"  # a US ZIP code


def test_postal_codes_place_addresses_without_a_state():
    assert propose_timezone([None, None], ["AU", "AU"], ["3000", "3121"]).zone == "Australia/Melbourne"
    assert propose_timezone([None, None], ["AU", "AU"], ["6000", "0800"]).zone in {"Australia/Perth",
                                                                                  "Australia/Darwin"}
    assert propose_timezone([None], [None], ["T5J 0N3"]).zone == "America/Edmonton"
    # a country list shorter than the states is a hint for all of them
    assert propose_timezone(["Canarias", "Canarias", "Madrid"], ["Spain"]).zone == "Atlantic/Canary"


def test_nothing_to_go_by_gives_the_default_with_no_confidence():
    choice = propose_timezone([None, "", "Atlantis"], ["", None, None])
    assert (choice.zone, choice.confidence) == (DEFAULT_ZONE, 0.0)
    assert "no patient address of 1 read" in choice.reason and "confirm" in choice.reason


def test_from_the_warehouse_each_patient_counts_once_at_its_latest_address(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute("CREATE TABLE raw.synthea__patients (id VARCHAR, state VARCHAR, zip VARCHAR, "
                    "_loaded_at TIMESTAMPTZ, _source_row BIGINT)")
        # P1 moved from Sydney to Melbourne; P2 and P3 live in Melbourne, P4 in Brisbane
        con.execute("""INSERT INTO raw.synthea__patients VALUES
            ('P1', 'NSW', '2000', '2026-01-01', 1), ('P4', 'QLD', '4000', '2026-01-01', 2),
            ('P1', 'Victoria', '3000', '2026-02-01', 1), ('P2', 'Victoria', '3000', '2026-02-01', 2),
            ('P3', 'VIC', '3000', '2026-02-01', 3)""")
        choice = timezone_from_warehouse(con, "synthea")
        assert choice.zone == "Australia/Melbourne" and choice.reason.startswith("4 of 4")
        con.execute("CREATE TABLE raw.fhir__patient (id VARCHAR, resource VARCHAR, _loaded_at TIMESTAMPTZ, "
                    "_source_row BIGINT)")
        resource = {"resourceType": "Patient", "address": [{"state": "Ontario", "country": "CA"}]}
        con.execute("INSERT INTO raw.fhir__patient VALUES ('F1', ?, now(), 1)", [json.dumps(resource)])
        assert timezone_from_warehouse(con, "fhir").zone == "America/Toronto"
        # a generic export without a state column: its countries still place it
        con.execute("CREATE TABLE raw.generic__patients (patient_id VARCHAR, country VARCHAR)")
        con.execute("INSERT INTO raw.generic__patients VALUES ('G1', 'New Zealand'), ('G2', 'NZ')")
        assert timezone_from_warehouse(con, "generic").zone == "Pacific/Auckland"
        # nothing landed for a format: the default
        assert timezone_from_warehouse(con, "other").confidence == 0.0


# ------------------------------------------------------------------ an Australian Synthea export
def victorian_export(synthea_dir: Path, folder: Path) -> Path:
    """The shared Synthea export with every patient living in Victoria, Australia."""
    folder.mkdir()
    for path in synthea_dir.glob("*.csv"):
        if path.name != "patients.csv":
            (folder / path.name).write_bytes(path.read_bytes())
    with (synthea_dir / "patients.csv").open(newline="", encoding="utf-8") as src, \
            (folder / "patients.csv").open("w", newline="", encoding="utf-8") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, reader.fieldnames, lineterminator="\n")
        writer.writeheader()
        for row in reader:
            writer.writerow(row | {"STATE": "Victoria", "COUNTY": "Melbourne", "CITY": "Melbourne", "ZIP": "3000"})
    return folder


@pytest.mark.slow
@pytest.mark.xdist_group("dbt_timezone")
def test_an_australian_synthea_export_gets_melbourne_time(synthea_dir, work_home, tmp_path, caplog):
    export = victorian_export(synthea_dir, tmp_path / "victoria")
    warehouse = work_home / "warehouse.duckdb"
    with caplog.at_level(logging.INFO, logger="clinic2zoho.orchestration.steps"):
        landed = land_source(str(export), "synthea", warehouse=warehouse)
    assert landed["clinic_timezone"] == "Australia/Melbourne"
    assert "Australia/Melbourne 27 (100%)" in landed["clinic_timezone_reason"]
    logged = [r.getMessage() for r in caplog.records if "clinic time zone" in r.getMessage()]
    assert logged == [f"clinic time zone Australia/Melbourne: {landed['clinic_timezone_reason']}"]
    assert "Victoria" not in logged[0] and "3000" not in logged[0]  # counts and zones, no address
    assert export_vars(export, "synthea", warehouse=warehouse)["clinic_timezone"] == "Australia/Melbourne"

    land_users(DEMO / "zoho_users.json", "production", warehouse=warehouse)
    dbt_vars = {"clinic_timezone": landed["clinic_timezone"],
                "provider_email_overrides_file": str(DEMO / "provider_email_overrides.csv")}
    built = run_dbt(["build", "--select", "+zoho_events", "--indirect-selection", "cautious"], warehouse=warehouse,
                    vars=dbt_vars)
    assert built.success, built.summary()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        offsets = {r[0] for r in con.execute("SELECT DISTINCT right(Start_DateTime, 6) FROM zoho.zoho_events")
                   .fetchall()}
        # 16:17:47 UTC on 27 January is 03:17:47 the next morning in Melbourne's summer (AEDT, +11:00)
        summer = con.execute("SELECT e.Start_DateTime FROM zoho.zoho_events e JOIN raw.synthea__encounters s "
                             "ON s.id = e.Clinic_Appointment_Id WHERE s.start = '2023-01-27T16:17:47Z'").fetchone()
    assert offsets == {"+10:00", "+11:00"}
    assert summer == ("2023-01-28T03:17:47+11:00",)


def test_the_param_and_the_manifest_come_before_the_proposal(synthea_dir, work_home, tmp_path):
    export = victorian_export(synthea_dir, tmp_path / "victoria")
    landed = land_source(str(export), "synthea", clinic_timezone="Australia/Perth",
                         warehouse=work_home / "w.duckdb")
    assert (landed["clinic_timezone"], landed["clinic_timezone_reason"]) == \
        ("Australia/Perth", "given by the run's clinic_timezone param")
    generic = tmp_path / "generic"
    generic.mkdir()
    (generic / "patients.csv").write_text("patient_id,state\nP1,Victoria\n", encoding="utf-8")
    (generic / "manifest.json").write_text(json.dumps({
        "format": "clinic2zoho-generic", "version": 1, "timezone": "Europe/Dublin",
        "entities": {"patients": {"file": "patients.csv", "key": "patient_id"}}}), encoding="utf-8")
    landed = land_source(str(generic), "generic", warehouse=work_home / "g.duckdb")
    assert (landed["clinic_timezone"], landed["clinic_timezone_reason"]) == \
        ("Europe/Dublin", "named by the export's manifest")
