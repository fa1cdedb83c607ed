"""The source map drives staging: the same clinic exported in a vendor's layout (other file names
and headers, no manifest, day-first and 12-hour dates, `;` with decimal commas in cp1252, a name
in one column, vendor codes) builds Zoho tables equal, field by field, to the generic layout's.

The vendor layout is written here from the generated export by hand, and its source map says what
this test did; the comparison is with the generic layout of the same export, which the source map
never touched."""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from clinic2zoho.generator import generate_export
from clinic2zoho.landing import LandingError, land_export, land_users
from clinic2zoho.mapping import source_map
from clinic2zoho.transform import run_dbt

pytestmark = pytest.mark.xdist_group("mapping_layouts")  # one worker builds two_layouts once

LINEAGE = {"_source_file", "_source_row", "_loaded_at", "_batch_id", "_row_hash"}
# zoho_* tables compared, with the key they are ordered by
TABLES = {"zoho_contacts": "Clinic_Patient_Id", "zoho_leads": "Clinic_Patient_Id",
          "zoho_events": "Clinic_Appointment_Id", "zoho_tasks": "Clinic_Appointment_Id",
          "zoho_billing_history": "Clinic_Claim_Id", "zoho_insurance": "Clinic_Insurance_Id",
          "zoho_treatments": "Clinic_Treatment_Id", "zoho_notes": "Source_Note_Id, Part_Number"}


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, header: list[str], rows: list[list[str]], *, delimiter: str = ",",
           encoding: str = "utf-8") -> None:
    with open(path, "w", encoding=encoding, newline="", errors="replace") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)


def _dmy(value: str) -> str:
    return datetime.strptime(value, "%Y-%m-%d").strftime("%d/%m/%Y") if value else ""


def _dmy_12h(value: str) -> str:
    return datetime.strptime(value[:16], "%Y-%m-%d %H:%M").strftime("%d/%m/%Y %I:%M %p") if value else ""


def _comma(value: str) -> str:
    return value.replace(".", ",") if value else ""


OUTCOMES = {"completed": "ATT", "no-show": "DNA", "cancelled": "CXL", "scheduled": "BKD"}
SEXES = {"F": "Female", "M": "Male"}


def write_vendor_layout(generic: Path, out: Path) -> dict:
    """The generic export in a vendor's layout, and the source map saying so."""
    out.mkdir(parents=True)
    entities: dict[str, dict] = {}

    patients = _read(generic / "patients.csv")
    header = ["Patient No", "Patient Name", "DOB", "Gender", "Email Address", "Mobile", "Street", "Suburb",
              "State", "Zip Code", "Status", "Referral", "Usual Doctor", "Site", "Date Added", "Last Changed",
              "Legacy Chart No"]
    rows = [[p["patient_id"], f"{p['last_name']}, {p['first_name']}", _dmy(p["birth_date"]),
             SEXES.get(p["sex"], p["sex"]), p["email"], p["phone"], p["address_line"], p["city"], p["state"],
             p["postal_code"], p["status"], p["referral_source_id"], p["primary_provider_id"], p["clinic_id"],
             _dmy_12h(p["created_at"]), _dmy_12h(p["updated_at"]), f"LC-{i}"] for i, p in enumerate(patients)]
    named = {"patient_id", "first_name", "last_name", "birth_date", "sex", "email", "phone", "address_line", "city",
             "state", "postal_code", "status", "referral_source_id", "primary_provider_id", "clinic_id", "created_at",
             "updated_at"}
    rest = [c for c in patients[0] if c not in named]  # columns the generic layout has since gained
    header += rest
    for row, p in zip(rows, patients):
        row.extend(p[c] for c in rest)
    _write(out / "Patient List.csv", header, rows)
    columns = [{"source": "Patient No", "column": "patient_id"},
               {"source": "Patient Name", "column": ["first_name", "last_name"], "parse": "name",
                "format": "last_first"},
               {"source": "DOB", "column": "birth_date", "parse": "date", "format": "DMY"},
               {"source": "Gender", "column": "sex", "values": {v: k for k, v in SEXES.items()}},
               {"source": "Email Address", "column": "email"}, {"source": "Mobile", "column": "phone"},
               {"source": "Street", "column": "address_line"}, {"source": "Suburb", "column": "city"},
               {"source": "State", "column": "state"}, {"source": "Zip Code", "column": "postal_code"},
               {"source": "Status", "column": "status"}, {"source": "Referral", "column": "referral_source_id"},
               {"source": "Usual Doctor", "column": "primary_provider_id"}, {"source": "Site", "column": "clinic_id"},
               {"source": "Date Added", "column": "created_at", "parse": "datetime", "format": "DMY"},
               {"source": "Last Changed", "column": "updated_at", "parse": "datetime", "format": "DMY"},
               {"source": "Legacy Chart No", "column": None}]
    columns += [{"source": c, "column": c, "parse": "boolean"} if source_map.COLUMN_KINDS.get(c) == "boolean"
                else {"source": c, "column": c} for c in rest]
    entities["patients"] = {"file": "Patient List.csv", "key": "Patient No", "columns": columns}

    appointments = _read(generic / "appointments.csv")
    header = ["Appt ID", "Patient", "Clinician", "Location", "Date", "Start", "End", "Type", "Reason",
              "Result", "Booked On", "Modified"]
    rows = [[a["appointment_id"], a["patient_id"], a["provider_id"], a["clinic_id"], _dmy(a["visit_date"]),
             _dmy_12h(a["start_time"]), _dmy_12h(a["end_time"]), a["appointment_type"], a["reason"],
             OUTCOMES.get(a["outcome"], a["outcome"]), _dmy_12h(a["created_at"]), _dmy_12h(a["updated_at"])]
            for a in appointments]
    _write(out / "Appts.csv", header, rows, delimiter=";", encoding="cp1252")
    parsed = {"Date": ("date", "DMY"), "Start": ("datetime", "DMY"), "End": ("datetime", "DMY"),
              "Booked On": ("datetime", "DMY"), "Modified": ("datetime", "DMY")}
    targets = ["appointment_id", "patient_id", "provider_id", "clinic_id", "visit_date", "start_time", "end_time",
               "appointment_type", "reason", "outcome", "created_at", "updated_at"]
    columns = []
    for source, target in zip(header, targets):
        column: dict = {"source": source, "column": target}
        if source in parsed:
            column.update(parse=parsed[source][0], format=parsed[source][1])
        if source == "Result":
            column["values"] = {v: k for k, v in OUTCOMES.items()}
        columns.append(column)
    entities["appointments"] = {"file": "Appts.csv", "key": "Appt ID", "columns": columns}

    claims = _read(generic / "claims.csv")
    header = ["Claim Ref", "Patient", "Visit", "Clinician", "Service Date", "CPT", "Billed", "Paid", "Owing",
              "Payer", "Claim Status", "Lodged"]
    rows = [[c["claim_id"], c["patient_id"], c["appointment_id"], c["provider_id"], _dmy(c["service_date"]),
             c["cpt_code"], _comma(c["amount_billed"]), _comma(c["amount_paid"]), _comma(c["balance"]), c["payer"],
             c["status"], _dmy_12h(c["submitted_at"])] for c in claims]
    _write(out / "Billing.csv", header, rows, delimiter=";", encoding="cp1252")
    parsed = {"Service Date": ("date", "DMY"), "Billed": ("amount", "decimal_comma"),
              "Paid": ("amount", "decimal_comma"), "Owing": ("amount", "decimal_comma"),
              "Lodged": ("datetime", "DMY")}
    columns = []
    for source, target in zip(header, source_map.CLINIC_MODEL["claims"]):
        column = {"source": source, "column": target}
        if source in parsed:
            column.update(parse=parsed[source][0], format=parsed[source][1])
        columns.append(column)
    entities["claims"] = {"file": "Billing.csv", "key": "Claim Ref", "columns": columns}

    # the other entities keep the generic headers under the vendor's file names
    for entity, name in (("providers", "Staff.csv"), ("clinics", "Sites.csv"),
                         ("referral_sources", "Referrers.csv"), ("insurance_plans", "Cover.csv"),
                         ("treatments", "Procedures.csv"), ("clinical_notes", "Notes.csv"),
                         ("documents", "Docs.csv"), ("care_programs", "Programs.csv"),
                         ("program_enrollments", "Enrolments.csv")):
        shutil.copy(generic / f"{entity}.csv", out / name)
        with open(out / name, encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        entities[entity] = {"file": name, "key": header[0],
                            "columns": [{"source": h, "column": h if h in source_map.CLINIC_MODEL[entity] else None}
                                        for h in header]}
    shutil.copy(generic / "workflows.json", out / "workflows.json")
    doc = source_map.new_source_map(source_map.export_name(out), entities, "America/New_York", "test")
    doc["workflows"] = "workflows.json"
    return doc


def _table(con: duckdb.DuckDBPyConnection, table: str, key: str) -> tuple[list[str], list[tuple]]:
    columns = [r[0] for r in con.execute(f"describe zoho.{table}").fetchall() if r[0] not in LINEAGE]
    quoted = ", ".join(f'"{c}"' for c in columns)
    order = ", ".join(f'"{k}"' for k in key.split(", "))
    return columns, con.execute(f"select {quoted} from zoho.{table} order by {order}").fetchall()


@pytest.fixture(scope="module")
def two_layouts(tmp_path_factory) -> tuple[Path, Path, Path]:
    """The same generated clinic built twice: generic layout, and vendor layout + source map."""
    root = tmp_path_factory.mktemp("layouts")
    generate_export(root / "gen", 60, seed=7, with_files=False, defects=False)
    generic = root / "gen" / "export"
    vendor = root / "Acme PMS export"
    doc = write_vendor_layout(generic, vendor)
    dbt_dir = root / "dbt_project"
    map_path = source_map.write_source_map(doc, source_map.source_map_path(doc["export"], dbt_dir))
    users = root / "gen" / "zoho_users.json"
    dbt_vars = {"provider_email_overrides_file": str(root / "gen" / "provider_email_overrides.csv")}
    built = []
    for name, source in (("generic", generic), ("vendor", vendor)):
        warehouse = root / name / "warehouse.duckdb"
        warehouse.parent.mkdir()
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("CLINIC2ZOHO_DBT_PROJECT", str(dbt_dir))
            land_export(source, None, warehouse=warehouse)
        land_users(users, "production", warehouse=warehouse)
        result = run_dbt(["build"], warehouse=warehouse, vars=dbt_vars)
        assert result.success, result.summary()
        built.append(warehouse)
    return built[0], built[1], map_path


def test_vendor_layout_builds_the_same_zoho_tables(two_layouts):
    generic, vendor, _ = two_layouts
    with duckdb.connect(str(generic), read_only=True) as g, duckdb.connect(str(vendor), read_only=True) as v:
        for table, key in TABLES.items():
            g_columns, g_rows = _table(g, table, key)
            v_columns, v_rows = _table(v, table, key)
            assert v_columns == g_columns, table
            assert len(v_rows) == len(g_rows) > 0 or table == "zoho_leads", table
            for g_row, v_row in zip(g_rows, v_rows):
                differ = [c for c, a, b in zip(g_columns, g_row, v_row) if a != b]
                assert not differ, f"{table} {g_row[g_columns.index(key.split(', ')[0])]}: {differ}"


def test_the_warehouse_records_which_source_map_it_read(two_layouts):
    generic, vendor, map_path = two_layouts
    with duckdb.connect(str(vendor), read_only=True) as con:
        files = con.execute("select distinct source_map_file, source_map_hash from raw._source_map").fetchall()
    assert files == [(map_path.name, source_map.file_hash(map_path))]
    with duckdb.connect(str(generic), read_only=True) as con:
        assert con.execute("select count(*) from raw._source_map").fetchone()[0] == 0


def test_extra_vendor_column_is_landed_not_mapped_and_accounted_for(two_layouts):
    from clinic2zoho.mapping.column_accounting import NOT_MIGRATED, account_table, source_map_left_out

    _, vendor, _ = two_layouts
    with duckdb.connect(str(vendor), read_only=True) as con:
        landed = {r[0] for r in con.execute("describe raw.generic__patients").fetchall()}
        mapped = {r[0] for r in con.execute("select raw_column from raw._source_map where entity = 'patients' "
                                            "and clinic_column is not null").fetchall()}
        left_out = source_map_left_out(con)
    assert "legacy_chart_no" in landed and "legacy_chart_no" not in mapped
    # the column accounting lists it as not migrated, with the source map's reason (never "no reason")
    assert "column: null" in left_out["raw.generic__patients"]["legacy_chart_no"]
    accounted = {a.column: a for a in account_table("raw.generic__patients", ["legacy_chart_no"], None, set(), {},
                                                    "generic", left_out["raw.generic__patients"])}
    assert accounted["legacy_chart_no"].status == NOT_MIGRATED
    assert "source map" in accounted["legacy_chart_no"].reason


def test_an_export_without_manifest_or_source_map_is_refused_with_the_way_out(tmp_path, monkeypatch):
    folder = tmp_path / "Some Clinic"
    folder.mkdir()
    (folder / "people.csv").write_text("a,b\n1,2\n")
    monkeypatch.setenv("CLINIC2ZOHO_DBT_PROJECT", str(tmp_path / "dbt_project"))
    with pytest.raises(LandingError, match="no manifest.json and no source map.*clinic2zoho propose"):
        land_export(folder, None, warehouse=tmp_path / "w.duckdb")


def test_a_source_map_naming_a_header_the_file_lacks_is_refused_before_landing(tmp_path, monkeypatch):
    folder = tmp_path / "clinic"
    folder.mkdir()
    (folder / "people.csv").write_text("Patient No,Surname\n1,Smith\n")
    dbt_dir = tmp_path / "dbt_project"
    doc = source_map.new_source_map("clinic", {"patients": {"file": "people.csv", "key": "Patient No", "columns": [
        {"source": "Patient No", "column": "patient_id"}, {"source": "Given Name", "column": "first_name"}]}})
    source_map.write_source_map(doc, source_map.source_map_path("clinic", dbt_dir))
    monkeypatch.setenv("CLINIC2ZOHO_DBT_PROJECT", str(dbt_dir))
    with pytest.raises(LandingError, match="given_name.*the header has: Patient No, Surname") as err:
        land_export(folder, None, warehouse=tmp_path / "w.duckdb")
    assert "people.csv" in str(err.value)


@pytest.mark.parametrize("change, field", [
    ({"column": "date_of_birth"}, "entities.patients.columns[1].column"),
    ({"parse": "date"}, "entities.patients.columns[1].format"),
    ({"column": "patient_id"}, "entities.patients.columns[1].column"),
])
def test_source_map_errors_name_the_field(tmp_path, change, field):
    doc = source_map.new_source_map("x", {"patients": {"file": "p.csv", "key": "ID", "columns": [
        {"source": "ID", "column": "patient_id"}, {"source": "Born", "column": "birth_date", **change}]}})
    path = tmp_path / "x.yml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(source_map.SourceMapError) as err:
        source_map.read_source_map(path)
    assert err.value.field == field


def test_a_generic_export_from_before_a_column_was_added_builds_with_it_empty(tmp_path):
    """The generic layout gains columns over time (consent flags): an export written before lands
    and builds, the columns it lacks NULL, the others as exported."""
    generate_export(tmp_path / "gen", 15, seed=9, with_files=False, defects=False)
    export = tmp_path / "gen" / "export"
    rows = _read(export / "patients.csv")
    older = [c for c in rows[0] if c not in ("email_opt_out", "sms_opt_out", "preferred_contact_method")]
    _write(export / "patients.csv", older, [[r[c] for c in older] for r in rows])
    warehouse = tmp_path / "w.duckdb"
    land_export(export, "generic", warehouse=warehouse)
    result = run_dbt(["build", "--select", "stg_generic__patients"], warehouse=warehouse)
    assert result.success, result.summary()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        got = con.execute("select patient_id, first_name, email_opt_out from staging.stg_generic__patients "
                          "order by patient_id").fetchall()
    assert [(r["patient_id"], r["first_name"], None) for r in sorted(rows, key=lambda r: r["patient_id"])] == got
