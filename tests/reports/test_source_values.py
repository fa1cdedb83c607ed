"""The source side of the diff: declared rules read from a mapping file, source values normalised
by type, and a landed row read as landed or through an export's source map."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml

from clinic2zoho.reports.compare import compare_scalar
from clinic2zoho.reports.source_values import (CAST, COPY, DERIVED, VALUE_MAP, Expected, SourceError, SourceReader,
                                               accepted_actuals, expected_value, read_rules)

ZONE = ZoneInfo("America/New_York")
MAPPING = {
    "format": "generic",
    "entities": [{
        "entity": "patients", "table": "raw.generic__patients", "key": "patient_id",
        "fields": [
            {"column": "patient_id", "target": "Contacts.Clinic_Patient_Id", "data_type": "text",
             "mapped_by": "zoho_contacts"},
            {"column": "city", "target": "Contacts.Mailing_City", "data_type": "text", "mapped_by": "zoho_contacts"},
            {"column": "birth_date", "target": "Contacts.Date_of_Birth", "data_type": "date",
             "mapped_by": "zoho_contacts"},
            {"column": "status", "target": "Contacts.Patient_Status", "data_type": "picklist",
             "mapped_by": "zoho_contacts", "value_map_in": "value_maps.patient_status_map"},
            {"column": "referral_source_id", "target": "Contacts.Referral_Source", "data_type": "picklist",
             "mapped_by": "zoho_contacts", "value_map_in": "value_maps.referral_source_map"},
            {"column": "sex", "target": "Contacts.Gender", "data_type": "picklist",
             "carried_by": "clinic_extra_columns", "value_map": [{"source": "F", "zoho": "Female"}]},
            {"column": "clinic_id", "target": "Contacts.Account_Name", "data_type": "lookup",
             "mapped_by": "zoho_contacts"},
            {"column": "primary_provider_id", "target": "skip", "data_type": "ownerlookup"},
            {"column": "email", "target": "Contacts.Email", "data_type": "email"},  # neither mapped nor carried
        ]}],
    "value_maps": {
        "patient_status_map": {"normalise": "lower_trim", "source_columns": ["patients.status"],
                               "values": [{"source": "Active", "zoho": "Active"},
                                          {"source": "Inactive", "zoho": "Inactive"}]},
        "referral_source_map": {"normalise": "lower_trim", "source_columns": ["referral_sources.name"],
                                "values": [{"source": "google", "zoho": "Online Search"}]},
    },
}


def _rules() -> dict:
    return {f: r[0] for (_, f), r in read_rules(MAPPING, Path("generic.yml"))[1].items()}


def test_each_declared_field_gets_its_rule_kind_and_a_map_keyed_by_another_column_is_derived():
    rules = _rules()
    assert {f: r.kind for f, r in rules.items()} == {
        "Clinic_Patient_Id": COPY, "Mailing_City": COPY, "Date_of_Birth": CAST, "Patient_Status": VALUE_MAP,
        "Referral_Source": DERIVED, "Gender": VALUE_MAP, "Account_Name": DERIVED}
    assert rules["Patient_Status"].values == {"active": "Active", "inactive": "Inactive"}
    assert rules["Referral_Source"].inputs == ("patients.referral_source_id", "referral_sources.name")
    assert rules["Mailing_City"].describe() == \
        "copy: patients.city → Contacts.Mailing_City (mapping/generic.yml, zoho_contacts)"
    assert rules["Date_of_Birth"].describe().startswith("cast to date: patients.birth_date")


def test_a_value_map_the_file_lacks_is_an_error_naming_the_file():
    broken = {**MAPPING, "value_maps": {}}
    with pytest.raises(SourceError, match=r"generic.yml: patients.status names value map patient_status_map"):
        read_rules(broken, Path("generic.yml"))


def test_source_values_are_normalised_by_type():
    rules = _rules()
    city, dob, status, gender = (rules[f] for f in ("Mailing_City", "Date_of_Birth", "Patient_Status", "Gender"))
    assert expected_value(city, "  Lowell ", ZONE).value == "Lowell"
    assert expected_value(city, "   ", ZONE) == Expected(None, "")
    assert expected_value(dob, "1956-12-24", ZONE).value == "1956-12-24"
    assert expected_value(dob, "24/12/1956", ZONE).value is None  # unreadable: staging leaves it empty
    assert expected_value(status, " inactive", ZONE).value == "Inactive"
    unmapped = expected_value(status, "Paused", ZONE)
    assert unmapped.value == "Paused" and unmapped.unmapped
    assert expected_value(gender, "F", ZONE).value == "Female"
    when = city.__class__(**{**vars(city), "kind": CAST, "data_type": "datetime"})
    local = expected_value(when, "2024-03-05 09:30:00", ZONE)  # clinic wall-clock time, its offset added
    assert local.shown == "2024-03-05T09:30:00-05:00"
    assert compare_scalar(local.value, "2024-03-05T14:30:00+00:00", "datetime").ok
    assert expected_value(when, "2024-07-01T12:00:00Z", ZONE).shown == "2024-07-01T08:00:00-04:00"
    day = city.__class__(**{**vars(city), "kind": CAST, "data_type": "date"})
    assert expected_value(day, "2024-07-01T02:00:00Z", ZONE).value == "2024-06-30"  # the clinic's date
    money = city.__class__(**{**vars(city), "kind": CAST, "data_type": "currency"})
    assert expected_value(money, "12.50", ZONE).value == Decimal("12.50")
    assert expected_value(money, "12,50", ZONE).value is None and expected_value(money, "NaN", ZONE).value is None
    flag = city.__class__(**{**vars(city), "kind": CAST, "data_type": "boolean"})
    assert [expected_value(flag, v, ZONE).value for v in ("1", "No", "maybe")] == [True, False, None]
    email = city.__class__(**{**vars(city), "data_type": "email"})
    assert expected_value(email, " Ann@Example.COM ", ZONE).value == "ann@example.com"
    assert expected_value(email, "ann@example", ZONE).value is None  # Zoho takes no such address


def test_documented_treatments_are_accepted_and_nothing_else():
    shared = {"Email": None, "Secondary_Email": "ann@example.com"}
    assert "ann@example.com" in accepted_actuals("Contacts", "Email", Expected("ann@example.com", ""), shared)
    assert accepted_actuals("Contacts", "Mailing_City", Expected("Lowell", ""), {"Mailing_City": "MA"}) == ["MA"]
    named = accepted_actuals("Accounts", "Account_Name", Expected("Main", ""), {"Account_Name": "Main (Boston)"})
    assert "Main" in named
    assert accepted_actuals("Accounts", "Account_Name", Expected("Main", ""), {"Account_Name": "Mainly"}) == ["Mainly"]


def _warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw._batches (batch_id VARCHAR, format VARCHAR, source VARCHAR)")
    con.execute("INSERT INTO raw._batches VALUES ('b1', 'generic', '/exports/acme'), ('b2', 'generic', '/exports/acme')")
    con.execute("""CREATE TABLE raw.generic__patients (patient_nr VARCHAR, town VARCHAR, dob VARCHAR, full_name VARCHAR,
                   _source_file VARCHAR, _source_row BIGINT, _batch_id VARCHAR, _loaded_at TIMESTAMPTZ)""")
    con.execute("""INSERT INTO raw.generic__patients VALUES
        ('P1', 'Lowell', '24/12/1956', 'Smith, Jane', '/exports/acme/Patient List.csv', 1, 'b1', '2026-01-01'),
        ('P1', 'Salem', '24/12/1956', 'Smith, Jane', '/exports/acme/Patient List.csv', 1, 'b2', '2026-01-02'),
        ('P2', 'Boston', '03/01/1990', 'Doe, John', '/exports/acme/Patient List.csv', 2, 'b1', '2026-01-01')""")
    con.execute("""CREATE TABLE raw._source_map (entity VARCHAR, clinic_column VARCHAR, part INTEGER,
                   source_header VARCHAR, raw_column VARCHAR, parse VARCHAR, format VARCHAR, value_map VARCHAR)""")
    con.execute("""INSERT INTO raw._source_map VALUES
        ('patients', 'patient_id', 0, 'Patient Nr', 'patient_nr', 'text', NULL, NULL),
        ('patients', 'city', 0, 'Town', 'town', 'text', NULL, NULL),
        ('patients', 'birth_date', 0, 'DOB', 'dob', 'date', 'DMY', NULL),
        ('patients', 'first_name', 0, 'Name', 'full_name', 'name', 'last_first', NULL),
        ('patients', 'last_name', 1, 'Name', 'full_name', 'name', 'last_first', NULL),
        ('patients', 'state', 0, NULL, NULL, NULL, NULL, NULL)""")
    con.close()
    return path


def test_a_vendor_layout_is_read_through_its_source_map_latest_version_first(tmp_path):
    (tmp_path / "mapping").mkdir()
    (tmp_path / "mapping" / "generic.yml").write_text(yaml.safe_dump(MAPPING))
    reader = SourceReader(_warehouse(tmp_path / "w.duckdb"), tmp_path / "mapping", ZONE)
    link = reader.link_column("Contacts", ["Clinic_Patient_Id", "Mailing_City"])
    assert link == ("Clinic_Patient_Id", [("generic", "patients", "patient_id")])
    rows = reader.rows("generic", "patients", ["P1", "P2", "P9"])
    assert set(rows) == {"P1", "P2"}
    p1 = rows["P1"]
    assert (p1.file, p1.row) == ("Patient List.csv", 1)
    assert p1.cells["city"].text == "Salem"  # the latest landed version, as staging keeps it
    assert (p1.cells["birth_date"].header, p1.cells["birth_date"].text, p1.cells["birth_date"].clinic_text) == \
        ("DOB", "24/12/1956", "1956-12-24")
    assert (p1.cells["first_name"].clinic_text, p1.cells["last_name"].clinic_text) == ("Jane", "Smith")
    assert p1.cells["state"].clinic_text is None and p1.cells["state"].header == "(not in the export)"
    assert expected_value(_rules()["Date_of_Birth"], p1.cells["birth_date"].clinic_text, ZONE).value == "1956-12-24"
    # Leads are patients too: their fields follow the rules the mapping names for Contacts
    assert reader.rules("Leads", "Mailing_City")[0].column == "city"
