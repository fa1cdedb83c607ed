"""Vendor layouts of a generated export: files as the truth claims them, and every value recoverable
from the vendor's text plus truth.json alone (a reader written here, independent of the writer)."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from clinic2zoho.generator import generate_export
from clinic2zoho.generator.layouts import LAYOUTS, column_kind, write_layout


@pytest.fixture(scope="module")
def generic(tmp_path_factory) -> Path:
    result = generate_export(tmp_path_factory.mktemp("generic") / "out", 60, seed=7, with_files=False)
    export = result.export_dir
    # one small document file, so copying files/ is checked without sparse multi-MB files
    with open(export / "documents.csv", encoding="utf-8", newline="") as fh:
        first_doc = list(csv.DictReader(fh))[0]
    (export / first_doc["file_path"]).write_bytes(b"%PDF-1.4 test document")
    return export


@pytest.fixture(scope="module")
def written(generic, tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    out = tmp_path_factory.mktemp("layouts")
    result = {}
    for name in LAYOUTS:
        export = write_layout(generic, name, out / name)
        result[name] = (export, json.loads((out / name / "truth.json").read_text(encoding="utf-8")))
    return result


def _generic_rows(generic: Path, entity: str) -> tuple[list[str], list[list[str]]]:
    manifest = json.loads((generic / "manifest.json").read_text(encoding="utf-8"))
    with open(generic / manifest["entities"][entity]["file"], encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.reader(fh) if r]
    return rows[0], rows[1:]


def _vendor_rows(export: Path, entry: dict) -> list[list[str]]:
    with open(export / entry["file"], encoding=entry["encoding"], newline="") as fh:
        return [r for r in csv.reader(fh, delimiter=entry["delimiter"]) if r]


# --- the reader: vendor text + truth -> generic text ----------------------------------------------

_DATE = re.compile(r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})"
                   r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$")


def _read_date(text: str, rule: dict) -> str:
    m = _DATE.match(text)
    assert m, f"not a {rule['format']} {rule['parse']}: {text!r}"
    a, b, c = m[1], m[2], m[3]
    year, month, day = {"YMD": (a, b, c), "DMY": (c, b, a), "MDY": (c, a, b)}[rule["format"]]
    iso = f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
    if rule["parse"] == "date":
        assert m[4] is None, text
        return iso
    hour = int(m[4])
    if m[7]:
        hour = hour % 12 + (12 if m[7].upper() == "PM" else 0)
    return f"{iso} {hour:02d}:{m[5]}:{m[6] or '00'}"


def _read_amount(text: str, rule: dict) -> str:
    digits = re.sub(r"[^\d,.\-]", "", text)
    if rule["format"] == "decimal_comma":
        return digits.replace(".", "").replace(",", ".")
    return digits.replace(",", "")


def _read_record(entry: dict, header: list[str], row: list[str], record: int) -> dict[str, str]:
    """The clinic columns a vendor record gives back, using only the truth's entry for its file."""
    values: dict[str, str] = {}
    for name, text in zip(header, row):
        target = entry["columns"][name]
        if target is None:
            continue
        rule = entry["parse"].get(name)
        unparsed = record in entry["unparsed"].get(name, [])
        if rule and text and not unparsed:
            if rule["parse"] in ("date", "datetime"):
                text = _read_date(text, rule)
            elif rule["parse"] == "amount":
                text = _read_amount(text, rule)
            elif rule["parse"] == "name":
                sep = ", " if rule["format"] == "last_first" else " "
                left, _, right = text.partition(sep)
                first, last = (right, left) if rule["format"] == "last_first" else (left, right)
                values[target[0]], values[target[1]] = first, last
                continue
        if not unparsed:
            text = entry["values"].get(name, {}).get(text, text)
        values[target] = text
    return values


def _canonical(column: str, value: str) -> str:
    """The generic value as a reader gives it back: datetimes with seconds."""
    if column_kind(column) == "datetime" and re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", value):
        return value + ":00"
    return value


# --- tests ------------------------------------------------------------------------------------


def test_layouts_are_at_least_six_and_named_stably():
    assert len(LAYOUTS) >= 6
    assert {"title_case", "camel_case", "abbreviated", "german", "one_name_column", "upper_snake"} <= set(LAYOUTS)
    with pytest.raises(ValueError, match="unknown layout"):
        write_layout(Path("."), "no_such_layout", Path("."))


def test_the_generic_export_is_never_overwritten(generic):
    with pytest.raises(ValueError, match="would replace the generic export"):
        write_layout(generic, "german", generic.parent)
    assert (generic / "manifest.json").is_file()


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_files_written_as_the_truth_claims(name, written, generic):
    export, truth = written[name]
    layout = LAYOUTS[name]
    assert truth["layout"] == name and Path(truth["generic_export"]) == generic.resolve()
    assert not (export / "truth.json").exists() and (export.parent / "truth.json").is_file()
    assert (export / "manifest.json").exists() == truth["manifest"] == layout.manifest
    assert json.loads((export / "workflows.json").read_text()) == json.loads((generic / "workflows.json").read_text())
    manifest = json.loads((generic / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(f["entity"] for f in truth["files"]) == sorted(manifest["entities"])
    assert truth["metadata"]["timezone"] == manifest["timezone"]
    written_files = {p.name for p in export.iterdir() if p.is_file()} - {"manifest.json", "workflows.json"}
    assert written_files == {f["file"] for f in truth["files"]}
    for entry in truth["files"]:
        raw = (export / entry["file"]).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") == (entry["encoding"] == "utf-8-sig")
        first_line = raw.split(b"\n", 1)[0] + b"\n"
        assert first_line.endswith(entry["lineterminator"].encode())
        rows = _vendor_rows(export, entry)
        assert rows[0] == list(entry["columns"]), entry["file"]
        # the header row, as bytes, is split by the claimed delimiter (no header needs quoting)
        header_text = first_line.decode(entry["encoding"]).rstrip("\r\n").lstrip("\ufeff")
        assert header_text.split(entry["delimiter"]) == rows[0], entry["file"]
        assert len(rows) - 1 == entry["rows"] == len(_generic_rows(generic, entry["entity"])[1])
        assert entry["key"] in rows[0]
        header, _ = _generic_rows(generic, entry["entity"])
        carried = {c for target in entry["columns"].values() if target is not None
                   for c in (target if isinstance(target, list) else [target])}
        assert carried | set(entry["dropped"]) == set(header), entry["file"]
    if name == "german":  # really cp1252, really ';' and decimal commas
        patients = next(f for f in truth["files"] if f["entity"] == "patients")
        raw = (export / patients["file"]).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        claims = next(f for f in truth["files"] if f["entity"] == "claims")
        billed = [r[rows_index] for rows_index in [list(claims["columns"]).index("Betrag")]
                  for r in _vendor_rows(export, claims)[1:]]
        assert all(re.fullmatch(r"\d{1,3}(\.\d{3})*,\d{2}", v) for v in billed)
    if truth["manifest"]:
        vendor_manifest = json.loads((export / "manifest.json").read_text(encoding="utf-8"))
        for entry in truth["files"]:
            assert vendor_manifest["entities"][entry["entity"]] == {"file": entry["file"], "key": entry["key"]}
        columns = {f["entity"]: f["columns"] for f in truth["files"]}
        for custom in vendor_manifest["custom_objects"]:
            assert columns[custom["entity"]][custom["key"]] == next(
                o["key"] for o in manifest["custom_objects"] if o["entity"] == custom["entity"])
        for relation in vendor_manifest["relations"]:
            for side in ("left", "right"):
                assert relation[side]["column"] in columns[relation["entity"]]


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_every_value_round_trips_through_the_truth(name, written, generic):
    export, truth = written[name]
    compared = 0
    for entry in truth["files"]:
        generic_header, generic_rows = _generic_rows(generic, entry["entity"])
        rows = _vendor_rows(export, entry)
        header = rows[0]
        lossy = set(entry["lossy"])
        for record, (vendor, original) in enumerate(zip(rows[1:], generic_rows), start=1):
            if record in entry["malformed"]:
                assert len(original) != len(generic_header)
                assert len(vendor) - len(header) == len(original) - len(generic_header)
                continue
            assert len(vendor) == len(header), (entry["file"], record)
            back = _read_record(entry, header, vendor, record)
            for column, value in zip(generic_header, original):
                if column in entry["dropped"]:
                    continue
                source = next(h for h, t in entry["columns"].items()
                              if t == column or (isinstance(t, list) and column in t))
                if source in lossy and record in entry["lossy_rows"].get(source, [record]):
                    continue  # the truth says this cell cannot be carried
                assert back[column] == _canonical(column, value), (name, entry["file"], record, column)
                compared += 1
    assert compared > 5000


def test_layouts_change_what_they_say(written, generic):
    _, camel = written["camel_case"]
    patients = next(f for f in camel["files"] if f["entity"] == "patients")
    assert [h for h, t in patients["columns"].items() if t is None] == ["lastSyncedBy", "legacyChartNo"]
    _, abbr = written["abbreviated"]
    appointments = next(f for f in abbr["files"] if f["entity"] == "appointments")
    assert appointments["dropped"] == ["updated_at"]
    assert appointments["values"]["APPT_OUTCM"] == {"ATT": "completed", "DNA": "no-show", "CXL": "cancelled",
                                                    "SCH": "scheduled"}
    providers = next(f for f in abbr["files"] if f["entity"] == "providers")
    assert providers["parse"]["ACTIVE_YN"] == {"parse": "boolean"}
    assert {r[-1] for r in _vendor_rows(written["abbreviated"][0], providers)[1:]} == {"Y", "N"}
    # a planted unparseable birth date is written as the clinic's system holds it, and listed
    _, title = written["title_case"]
    pats = next(f for f in title["files"] if f["entity"] == "patients")
    _, generic_rows = _generic_rows(generic, "patients")
    dob = _generic_rows(generic, "patients")[0].index("birth_date")
    bad = [i for i, r in enumerate(generic_rows, start=1) if r[dob] and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", r[dob])
           or r[dob] in ("1985-02-30", "2001-00-12")]
    assert bad and set(bad) <= set(pats["unparsed"]["DOB"])
    # one name column 'First Last' is lossy where a part holds a space, and says which records
    _, one = written["one_name_column"]
    pats = next(f for f in one["files"] if f["entity"] == "patients")
    assert "Full Name" in pats["lossy"] and pats["lossy_rows"]["Full Name"]
    # every layout changes a real share of the cells
    for name, (_, truth) in written.items():
        changed = sum(f["changed_cells"] for f in truth["files"]) / sum(f["cells"] for f in truth["files"])
        assert changed > 0.05, name


def test_documents_copied_with_paths_relative_to_the_export(written, generic):
    for name, (export, truth) in written.items():
        docs = next(f for f in truth["files"] if f["entity"] == "documents")
        rows = _vendor_rows(export, docs)
        path_header = next(h for h, t in docs["columns"].items() if t == "file_path")
        first_path = rows[1][rows[0].index(path_header)]
        assert (export / first_path).read_bytes() == (generic / first_path).read_bytes(), name


def test_a_column_added_to_the_generic_layout_gets_a_header_and_a_truth_entry(generic, tmp_path):
    copy = tmp_path / "generic"
    shutil.copytree(generic, copy)
    path = copy / "patients.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[0] += ["preferred_language", "consent_at", "is_vip"]
    for i, row in enumerate(rows[1:]):
        row += ["es", "2024-03-14 14:30:00", ("true", "false", "")[i % 3]]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    for name in LAYOUTS:
        write_layout(copy, name, tmp_path / name)
        truth = json.loads((tmp_path / name / "truth.json").read_text(encoding="utf-8"))
        patients = next(f for f in truth["files"] if f["entity"] == "patients")
        consent = next(h for h, t in patients["columns"].items() if t == "consent_at")
        assert "preferred_language" in patients["columns"].values()
        assert patients["parse"][consent]["parse"] == "datetime"
        vip = next(h for h, t in patients["columns"].items() if t == "is_vip")
        assert patients["parse"][vip] == {"parse": "boolean"}
        assert sorted(patients["values"][vip].values()) == ["false", "true"]
        with open(tmp_path / name / "export" / patients["file"], encoding=patients["encoding"], newline="") as fh:
            written_rows = list(csv.DictReader(fh, delimiter=patients["delimiter"]))
        assert {r[vip] for r in written_rows} == set(patients["values"][vip]) | {""}


def test_the_same_input_gives_the_same_bytes(generic, written, tmp_path):
    export, _ = written["german"]
    again = write_layout(generic, "german", tmp_path / "again")
    for path in export.glob("*.csv"):
        assert (again / path.name).read_bytes() == path.read_bytes()


def test_a_character_the_encoding_cannot_hold_is_lossy_for_that_record_only(generic, tmp_path):
    copy = tmp_path / "generic"
    shutil.copytree(generic, copy)
    path = copy / "patients.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[3][rows[0].index("first_name")] = "Łucja"  # Ł is not in cp1252
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    export = write_layout(copy, "german", tmp_path / "german")
    truth = json.loads((tmp_path / "german" / "truth.json").read_text(encoding="utf-8"))
    patients = next(f for f in truth["files"] if f["entity"] == "patients")
    assert "cp1252" in patients["lossy"]["Vorname"] and patients["lossy_rows"]["Vorname"] == [3]
    written_rows = _vendor_rows(export, patients)
    assert written_rows[3][written_rows[0].index("Vorname")] == "?ucja"


def test_generate_command_writes_a_layout_beside_the_export(tmp_path, capsys):
    from clinic2zoho.cli import main

    assert main(["generate", "--patients", "20", "--seed", "5", "--out", str(tmp_path), "--no-files",
                 "--layout", "abbreviated"]) == 0
    assert (tmp_path / "layouts" / "abbreviated" / "truth.json").is_file()
    assert (tmp_path / "layouts" / "abbreviated" / "abbreviated" / "PT.csv").is_file()
    assert "layout abbreviated:" in capsys.readouterr().out
