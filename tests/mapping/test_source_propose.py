"""The source-map proposer over folders of CSV files: the generic export is proposed as itself,
a vendor export built here from a generated one (other file names and headers, German headers
with `;`, decimal commas and cp1252, day-first dates, one name column, Y/N flags, vendor codes)
is proposed as what this test made of it, and every layout of the corpus is scored against its
truth."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from clinic2zoho.generator import generate_export
from clinic2zoho.landing.errors import LandingError
from clinic2zoho.mapping.detectors import BOOLEAN_WORDS, is_true
from clinic2zoho.mapping.header_words import normal
from clinic2zoho.mapping.source_map import CLINIC_MODEL, COLUMN_KINDS, check, write_source_map
from clinic2zoho.mapping.source_propose import propose_source_map, propose_timezone


@pytest.fixture(scope="module")
def generic(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("generic")
    generate_export(out, patients=60, seed=7, with_files=False)
    return out / "export"


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        # malformed records (planted defects) are left out of the vendor files
        rows = [r for r in reader if None not in r and None not in r.values()]
        return list(reader.fieldnames or []), rows


def _write(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8"):
    with path.open("w", encoding=encoding, newline="", errors="replace") as fh:
        writer = csv.writer(fh, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def _dmy(text: str, sep: str = "/", with_time: bool = False) -> str:
    try:
        if with_time:
            return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").strftime(f"%d{sep}%m{sep}%Y %H:%M")
        return date.fromisoformat(text).strftime(f"%d{sep}%m{sep}%Y")
    except ValueError:
        return text  # a planted defect stays as the clinic's system holds it


def _comma(amount: str) -> str:
    whole, _, cents = amount.partition(".")
    groups = f"{int(whole):,}".replace(",", ".") if whole.lstrip("-").isdigit() else whole
    return f"{groups},{cents or '00'} €"


def _identity_checks(doc: dict, generic: Path) -> None:
    assert doc["unassigned_files"] == []
    assert set(doc["entities"]) == set(CLINIC_MODEL)
    for entity, spec in doc["entities"].items():
        header, _ = _rows(generic / spec["file"])
        assert spec["file"] == f"{entity}.csv"
        assert spec["key"] == CLINIC_MODEL[entity][0]
        assert [c["source"] for c in spec["columns"]] == header
        for col in spec["columns"]:
            assert col["column"] == col["source"], (entity, col)
            kind = COLUMN_KINDS.get(col["column"])
            if kind in ("date", "datetime"):
                assert (col["parse"], col["format"]) == (kind, "YMD"), (entity, col)


def test_the_generic_export_is_proposed_as_itself_with_and_without_its_manifest(generic, tmp_path):
    with_manifest = propose_source_map(generic)
    _identity_checks(with_manifest, generic)
    assert with_manifest["timezone"] == "America/New_York"
    assert with_manifest["timezone_reason"] == "manifest.json names it"

    bare = tmp_path / "bare_export"
    shutil.copytree(generic, bare)
    (bare / "manifest.json").unlink()
    without = propose_source_map(bare)
    _identity_checks(without, generic)
    assert without["export"] == "bare_export"
    assert without["timezone"] == "America/New_York"  # the patients live in Massachusetts
    for spec in without["entities"].values():
        assert any(r.startswith("key ") and "unique" in r for r in spec["reasons"]), spec["reasons"]
    check(without, "proposed")
    write_source_map(without, tmp_path / "written.yml")  # the written file reads back as a source map


@pytest.fixture(scope="module")
def vendor(generic, tmp_path_factory) -> Path:
    """A vendor's export of the same clinic, no manifest: German patients and claims files (`;`,
    cp1252, DD.MM.YYYY, decimal commas, one `Nachname, Vorname` column), English visits with
    day-first dates and attendance codes, staff with a Y/N flag, and a log file of no entity."""
    out = tmp_path_factory.mktemp("vendor") / "Praxis Export 2024"
    out.mkdir()
    _, patients = _rows(generic / "patients.csv")
    sex = {"M": "männlich", "F": "weiblich"}
    _write(out / "Patienten.csv",
           ["Patienten-Nr", "Name", "Geburtsdatum", "Geschlecht", "E-Mail", "Telefon", "Straße", "PLZ", "Ort",
            "Bundesland", "Hausarzt", "Angelegt am"],
           [[p["patient_id"], f"{p['last_name']}, {p['first_name']}", _dmy(p["birth_date"], "."),
             sex.get(p["sex"], p["sex"]), p["email"], p["phone"], p["address_line"], p["postal_code"], p["city"],
             p["state"], p["primary_provider_id"], _dmy(p["created_at"], ".", with_time=True)] for p in patients],
           delimiter=";", encoding="cp1252")
    _, visits = _rows(generic / "appointments.csv")
    codes = {"completed": "ATT", "no-show": "DNA", "cancelled": "CXL", "scheduled": "SCH"}
    _write(out / "visits.csv", ["Visit No", "Patient", "Doctor", "Visit Date", "Attendance", "Reason for Visit"],
           [[a["appointment_id"], a["patient_id"], a["provider_id"], _dmy(a["visit_date"]), codes[a["outcome"]],
             a["reason"]] for a in visits])
    _, providers = _rows(generic / "providers.csv")
    _write(out / "Staff.csv", ["Staff ID", "First Name", "Last Name", "Email Address", "NPI", "Active"],
           [[p["provider_id"], p["first_name"], p["last_name"], p["email"], p["npi"],
             "Y" if p["status"] == "active" else "N"] for p in providers])
    _, claims = _rows(generic / "claims.csv")
    _write(out / "Rechnungen.csv", ["Rechnungs-Nr", "Patienten-Nr", "Leistungsdatum", "Leistungsziffer", "Betrag",
                                    "Bezahlt", "Offen"],
           [[c["claim_id"], c["patient_id"], _dmy(c["service_date"], "."), c["cpt_code"], _comma(c["amount_billed"]),
             _comma(c["amount_paid"]), _comma(c["balance"])] for c in claims], delimiter=";", encoding="cp1252")
    _write(out / "sync_log.csv", ["run", "level", "message"],
           [[str(i), "INFO", "batch uploaded to the portal without errors"] for i in range(20)])
    return out


def _columns(spec: dict) -> dict[str, dict]:
    return {c["source"]: c for c in spec["columns"]}


def test_a_vendor_export_without_manifest_is_proposed_as_built(vendor):
    doc = propose_source_map(vendor)
    check(doc, "proposed")
    assert doc["export"] == "praxis_export_2024"
    files = {e: s["file"] for e, s in doc["entities"].items()}
    assert files == {"patients": "Patienten.csv", "appointments": "visits.csv", "providers": "Staff.csv",
                     "claims": "Rechnungen.csv"}
    assert [u["file"] for u in doc["unassigned_files"]] == ["sync_log.csv"]
    assert doc["unassigned_files"][0]["reasons"]

    patients = doc["entities"]["patients"]
    assert patients["key"] == "Patienten-Nr"
    assert any("referenced by visits.csv" in r for r in patients["reasons"]), patients["reasons"]
    cols = _columns(patients)
    assert cols["Name"]["column"] == ["first_name", "last_name"]
    assert (cols["Name"]["parse"], cols["Name"]["format"]) == ("name", "last_first")
    assert (cols["Geburtsdatum"]["column"], cols["Geburtsdatum"]["parse"], cols["Geburtsdatum"]["format"]) == (
        "birth_date", "date", "DMY")
    assert (cols["Angelegt am"]["column"], cols["Angelegt am"]["parse"], cols["Angelegt am"]["format"]) == (
        "created_at", "datetime", "DMY")
    assert cols["Geschlecht"]["column"] == "sex"
    assert cols["Geschlecht"]["values"] == {"männlich": "M", "weiblich": "F"}
    expected = {"E-Mail": "email", "Telefon": "phone", "Straße": "address_line", "PLZ": "postal_code",
                "Ort": "city", "Bundesland": "state", "Hausarzt": "primary_provider_id"}
    assert {h: cols[h]["column"] for h in expected} == expected
    assert any("found in the key of Staff.csv" in r for r in cols["Hausarzt"]["reasons"])

    visits = _columns(doc["entities"]["appointments"])
    assert {h: c["column"] for h, c in visits.items()} == {
        "Visit No": "appointment_id", "Patient": "patient_id", "Doctor": "provider_id", "Visit Date": "visit_date",
        "Attendance": "outcome", "Reason for Visit": "reason"}
    assert visits["Visit Date"]["format"] == "DMY"
    assert visits["Attendance"]["values"] == {"ATT": "completed", "CXL": "cancelled", "DNA": "no-show",
                                              "SCH": "scheduled"}

    staff = _columns(doc["entities"]["providers"])
    assert staff["Active"]["column"] == "status"
    assert (staff["Active"]["parse"], staff["Active"]["values"]) == ("boolean", {"true": "active",
                                                                                 "false": "inactive"})
    assert staff["Staff ID"]["column"] == "provider_id" and doc["entities"]["providers"]["key"] == "Staff ID"

    claims = _columns(doc["entities"]["claims"])
    for header, column in (("Betrag", "amount_billed"), ("Bezahlt", "amount_paid"), ("Offen", "balance")):
        assert (claims[header]["column"], claims[header]["parse"], claims[header]["format"]) == (
            column, "amount", "decimal_comma")
    assert claims["Leistungsziffer"]["column"] == "cpt_code"
    assert claims["Patienten-Nr"]["column"] == "patient_id"  # a reference, not the claims' key
    assert doc["entities"]["claims"]["key"] == "Rechnungs-Nr"


def test_reasons_hold_counts_and_shares_never_patient_values(vendor, generic):
    doc = propose_source_map(vendor)
    reasons = json.dumps([doc["unassigned_files"], doc["timezone_reason"],
                          [(s["reasons"], [c["reasons"] for c in s["columns"]]) for s in doc["entities"].values()]],
                         ensure_ascii=False)
    _, patients = _rows(generic / "patients.csv")
    for p in patients:
        for column in ("last_name", "email", "phone", "birth_date", "address_line", "patient_id"):
            if len(p[column]) >= 5:
                assert p[column] not in reasons, column


def test_an_ambiguous_date_order_follows_the_exports_other_dates_and_says_so(tmp_path):
    export = tmp_path / "exp"
    export.mkdir()
    # no value of `Registered` has a part over 12; `Born` is day first
    _write(export / "patients.csv", ["Patient ID", "First Name", "Last Name", "Born", "Registered"],
           [[f"P{i:03}", "Anna", f"Smith{i}", f"{13 + i % 15:02}/{1 + i % 12:02}/19{50 + i % 40}",
             f"{1 + i % 12:02}/{1 + (i * 5) % 12:02}/2020"] for i in range(40)])
    cols = _columns(propose_source_map(export)["entities"]["patients"])
    assert (cols["Born"]["column"], cols["Born"]["format"]) == ("birth_date", "DMY")
    registered = cols["Registered"]
    assert registered["format"] == "DMY"
    assert registered["confidence"] <= 0.6
    assert any(r.startswith("ambiguous") for r in registered["reasons"]), registered["reasons"]


def test_a_header_the_values_contradict_is_demoted_with_the_evidence(tmp_path):
    export = tmp_path / "exp"
    export.mkdir()
    counties = ["Middlesex County", "Suffolk County", "Norfolk County", "Essex County"]
    _write(export / "patients.csv",
           ["Patient ID", "First Name", "Last Name", "E-mail", "Contact", "State", "Province", "Appointment ID"],
           [[f"P{i:03}", "Anna", f"Smith{i}", f"(617) 555-{i:04}", f"anna{i}@example.com", counties[i % 4],
             "MA", f"2020-01-{1 + i % 28:02}"] for i in range(40)])
    cols = _columns(propose_source_map(export)["entities"]["patients"])
    assert cols["E-mail"]["column"] == "phone"  # the values are phone numbers
    assert cols["Contact"]["column"] == "email"
    assert cols["State"]["column"] is None and cols["Province"]["column"] == "state"
    assert any("demoted" in r for r in cols["State"]["reasons"]), cols["State"]["reasons"]
    dated = cols["Appointment ID"]  # dates never fill an identifier; values alone never reach 0.8
    assert not str(dated["column"]).endswith("_id")
    assert dated["column"] is None or dated["confidence"] < 0.8
    assert cols["Patient ID"]["column"] == "patient_id"


def test_only_files_inside_the_export_are_read(tmp_path):
    export = tmp_path / "exp"
    export.mkdir()
    outside = tmp_path / "secret.csv"
    _write(outside, ["Patient ID", "Name"], [["P1", "Smith, Anna"]])
    (export / "patients.csv").symlink_to(outside)
    with pytest.raises(LandingError, match="outside the export folder"):
        propose_source_map(export)


def test_the_zone_from_states_provinces_and_regions():
    zone, reason, confidence = propose_timezone(["VIC"] * 8 + ["NSW"] * 2)
    assert zone == "Australia/Melbourne" and confidence >= 0.7
    assert "80%" in reason
    assert propose_timezone(["Victoria", "Victoria", "Queensland"])[0] == "Australia/Melbourne"
    assert propose_timezone(["WA", "WA", "VIC"], ["Australia"] * 3)[0] == "Australia/Perth"
    assert propose_timezone(["Bayern", "Berlin", "Hessen"])[0] == "Europe/Berlin"
    assert propose_timezone([], ["España", "España"])[0] == "Europe/Madrid"
    assert propose_timezone(["ON", "ON", "QC"], ["Canada"] * 3)[0] == "America/Toronto"
    assert propose_timezone(["TX", "TX", "CA"])[0] == "America/Chicago"


# ---------------------------------------------------------------------------------------------
# the layout corpus (generator.layouts), scored against each layout's truth

def _read_rule(parse: str | None):
    if parse == "boolean":
        return lambda v: ("true" if is_true(v) else "false") if normal(v) in BOOLEAN_WORDS else v
    return lambda v: v


def _score_layout(export: Path, truth: dict, doc: dict) -> tuple[int, int, list[str]]:
    """(columns right at the first choice, columns, misses). A column is right when its clinic
    column, parse rule and format are the truth's and every vendor value the file holds reads as
    the truth's clinic value (the parse rule first, then the value map)."""
    by_file = {spec["file"]: (entity, spec) for entity, spec in doc["entities"].items()}
    right = total = 0
    misses = []
    for tf in truth["files"]:
        total += len(tf["columns"])
        entity, spec = by_file.get(tf["file"], (None, None))
        if entity != tf["entity"]:
            misses.append(f"{tf['file']}: entity {entity}, truth {tf['entity']}")
            continue
        if spec["key"] != tf["key"]:
            misses.append(f"{tf['file']}: key {spec['key']!r}, truth {tf['key']!r}")
        with (export / tf["file"]).open(encoding=tf["encoding"], newline="") as fh:
            present = {h: set() for h in tf["columns"]}
            for row in csv.DictReader(fh, delimiter=tf["delimiter"]):
                for h in present:
                    if row.get(h):
                        present[h].add(row[h].strip())
        cols = _columns(spec)
        for header, column in tf["columns"].items():
            got = cols.get(header, {})
            rule = tf["parse"].get(header, {})
            ok = got.get("column") == column and got.get("parse") == rule.get("parse") and \
                got.get("format") == rule.get("format")
            read = _read_rule(rule.get("parse"))
            for vendor_value, clinic in tf["values"].get(header, {}).items():
                if ok and vendor_value in present[header]:
                    ok = (got.get("values") or {}).get(read(vendor_value), read(vendor_value)) == clinic
            right += ok
            if not ok:
                misses.append(f"{tf['entity']}.{header}: proposed {got.get('column')} "
                              f"{got.get('parse')}/{got.get('format')} ({got.get('confidence')}), truth {column} "
                              f"{rule.get('parse')}/{rule.get('format')}")
    return right, total, misses


def test_every_layout_of_the_corpus_is_proposed_right_at_the_first_choice(generic, tmp_path):
    layouts = pytest.importorskip("clinic2zoho.generator.layouts")
    report = []
    for name in layouts.LAYOUTS:
        export = layouts.write_layout(generic, name, tmp_path / name)
        truth = json.loads((tmp_path / name / "truth.json").read_text(encoding="utf-8"))
        doc = propose_source_map(export)
        check(doc, name)
        right, total, misses = _score_layout(export, truth, doc)
        report.append((name, right, total, misses))
        print(f"{name}: {right}/{total} columns right at the first choice ({right / total:.1%})")
        for miss in misses:
            print(f"  miss {miss}")
        assert not [m for m in misses if ": entity " in m], (name, misses)
        assert right >= 0.95 * total, (name, misses)
        assert doc["unassigned_files"] == [], name


def test_a_key_whose_header_only_says_identifier_is_taken_from_its_values_and_listed_for_review(generic, tmp_path):
    """`clientRef` names no patient, but it says "an identifier" and its values are the patients' key
    (unique, filled, referenced by the appointments): taken, below the review line."""
    from clinic2zoho.mapping.propose import LOW_CONFIDENCE

    export = tmp_path / "exp"
    export.mkdir()
    header, rows = _rows(generic / "patients.csv")
    renamed = ["clientRef" if h == "patient_id" else h for h in header]
    _write(export / "patients.csv", renamed, [[r[h] for h in header] for r in rows])
    header, rows = _rows(generic / "appointments.csv")
    _write(export / "appointments.csv", header, [[r[h] for h in header] for r in rows])
    cols = _columns(propose_source_map(export)["entities"]["patients"])
    assert cols["clientRef"]["column"] == "patient_id"
    assert cols["clientRef"]["confidence"] < LOW_CONFIDENCE
    assert any("names an identifier" in r for r in cols["clientRef"]["reasons"])
