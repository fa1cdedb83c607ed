"""The generated generic export: deterministic bytes, documented shape, every injected case present."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

import pytest

from clinic2zoho.generator import COLUMNS, generate_export
from clinic2zoho.generator.export import LONG_NOTE_CHARS
from clinic2zoho.zoho.facts import ATTACHMENT_MAX_BYTES

PATIENTS = 400


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.stat().st_size < 50_000_000}


def _records(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _table(export: Path, entity: str) -> dict[str, dict[str, str]]:
    """Well-formed rows of one entity file, by key."""
    rows = _records(export / f"{entity}.csv")
    header = rows[0]
    return {r[0]: dict(zip(header, r)) for r in rows[1:] if len(r) == len(header)}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return generate_export(tmp_path_factory.mktemp("gen") / "out", PATIENTS, seed=7)


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path, generated):
    again = generate_export(tmp_path / "again", PATIENTS, seed=7)
    assert _digest(again.out_dir) == _digest(generated.out_dir)
    other = generate_export(tmp_path / "other", PATIENTS, seed=8, with_files=False)
    assert (other.export_dir / "patients.csv").read_bytes() != (generated.export_dir / "patients.csv").read_bytes()


def test_manifest_and_files_follow_the_documented_format(generated):
    manifest = json.loads(generated.manifest_path.read_text(encoding="utf-8"))
    assert manifest["format"] == "clinic2zoho-generic"
    assert set(manifest["entities"]) == set(COLUMNS)
    assert manifest["relations"][0]["type"] == "many_to_many"
    doc = (Path(__file__).resolve().parents[2] / "docs" / "generic_export.md").read_text(encoding="utf-8")
    for entity, spec in manifest["entities"].items():
        rows = _records(generated.export_dir / spec["file"])
        assert rows[0] == COLUMNS[entity]
        assert rows[0][0] == spec["key"]
        assert len(rows) - 1 == generated.counts[entity], entity
        # the doc's table lists the same columns in the same order
        line = next(ln for ln in doc.splitlines() if ln.startswith(f"| {entity} |"))
        cell = re.sub(r"\([^)]*\)", "", line.split("|")[2])
        assert [c.strip() for c in cell.split(",")] == COLUMNS[entity], entity
    workflows = json.loads((generated.export_dir / "workflows.json").read_text(encoding="utf-8"))
    assert all({"workflow_id", "name", "active", "trigger", "actions"} <= set(w) for w in workflows)


def test_counts_and_shape(generated):
    c = generated.counts
    assert c["patients"] == PATIENTS + len(generated.cases.duplicate_pairs)
    assert c["appointments"] > 2 * PATIENTS and c["claims"] > PATIENTS
    patients = _table(generated.export_dir, "patients")
    statuses = {p["status"] for p in patients.values()}
    assert statuses == {"Active", "Inactive", "Deceased", "Prospect", "Referral Inquiry"}
    visits = _table(generated.export_dir, "appointments")
    with_visits = {v["patient_id"] for v in visits.values()}
    leads = {k for k, p in patients.items() if p["status"] in {"Prospect", "Referral Inquiry"}}
    assert leads and not (leads & with_visits), "prospects and referral inquiries have no appointments"
    assert {v["outcome"] for v in visits.values()} == {"scheduled", "completed", "no-show", "cancelled"}
    untimed = [v for v in visits.values() if not v["start_time"]]
    assert untimed and all(not v["end_time"] and v["outcome"] != "scheduled" for v in untimed)
    claims = _table(generated.export_dir, "claims")
    assert {c["status"] for c in claims.values()} == {"draft", "submitted", "pending", "paid", "partially_paid",
                                                      "denied", "appealed", "written_off"}
    assert any(float(c["balance"]) > 0 for c in claims.values())
    plans = _table(generated.export_dir, "insurance_plans")
    assert {"primary", "secondary"} <= {p["priority"] for p in plans.values()}
    notes = _table(generated.export_dir, "clinical_notes")
    assert {n["content_format"] for n in notes.values()} == {"html", "rtf", "text"}
    enrol = _table(generated.export_dir, "program_enrollments")
    per_patient: dict[str, set[str]] = {}
    for e in enrol.values():
        per_patient.setdefault(e["patient_id"], set()).add(e["program_id"])
    assert any(len(p) > 1 for p in per_patient.values()), "a patient in several programs (many-to-many)"
    text = (generated.export_dir / "patients.csv").read_text(encoding="utf-8")
    assert any(ch in text for ch in "éñöüç"), "some names need more than ASCII"
    text.encode("cp1252")  # and all of it fits cp1252


def test_injected_cases_are_in_the_files(generated):
    cases, export = generated.cases, generated.export_dir
    patients = _table(export, "patients")
    assert len(cases.duplicate_pairs) >= 4
    assert {d.kind for d in cases.duplicate_pairs} == {"typo_last_name", "swapped_names", "typo_first_name",
                                                       "case_and_spacing"}
    for pair in cases.duplicate_pairs:
        a, b = patients[pair.original_id], patients[pair.duplicate_id]
        assert a["birth_date"] == b["birth_date"]
        assert re.sub(r"\D", "", a["phone"])[-10:] == re.sub(r"\D", "", b["phone"])[-10:]
        assert (a["first_name"], a["last_name"]) != (b["first_name"], b["last_name"])
        if pair.kind == "swapped_names":
            assert (a["first_name"], a["last_name"]) == (b["last_name"], b["first_name"])

    records = {e: _records(export / f"{e}.csv") for e in ("appointments", "treatments")}
    assert {m.reason for m in cases.malformed_rows} == {"extra_field", "missing_field"}
    for bad in cases.malformed_rows:
        rows = records[bad.entity]
        row = rows[bad.source_row]  # record number = index after the header
        assert row[0] == bad.record_id and len(row) != len(rows[0])

    assert {v.reason for v in cases.invalid_values} == {"invalid_date", "invalid_email", "invalid_phone"}
    for value in cases.invalid_values:
        assert _table(export, value.entity)[value.record_id][value.column] == value.value
    assert {o.entity for o in cases.orphans} == {"appointments", "claims", "clinical_notes"}
    for orphan in cases.orphans:
        row = _table(export, orphan.entity)[orphan.record_id]
        assert row[orphan.column] == orphan.value
        known = patients if orphan.reason == "unknown_patient" else _table(export, "providers")
        assert orphan.value not in known

    documents = _table(export, "documents")
    assert len(cases.oversized_documents) >= 2
    for doc_id in cases.oversized_documents:
        doc = documents[doc_id]
        assert int(doc["size_bytes"]) > ATTACHMENT_MAX_BYTES
        assert (export / doc["file_path"]).stat().st_size == int(doc["size_bytes"])
    assert all((export / d["file_path"]).is_file() for d in documents.values())
    notes = _table(export, "clinical_notes")
    assert len(cases.long_notes) >= 2
    assert all(len(notes[n]["content"]) > LONG_NOTE_CHARS for n in cases.long_notes)


def test_every_record_owning_provider_resolves_to_a_zoho_user(generated):
    export = generated.export_dir
    providers = _table(export, "providers")
    overrides = dict(_records(generated.overrides_path)[1:])
    users = {u["email"] for u in json.loads(generated.zoho_users_path.read_text(encoding="utf-8"))}
    assert {"admin@riverside-clinic.example"} <= users
    assert generated.cases.providers_without_email
    owners = {row["provider_id"] for e in ("appointments", "claims", "treatments", "clinical_notes")
              for row in _table(export, e).values()}
    owners |= {p["primary_provider_id"] for p in _table(export, "patients").values() if p["primary_provider_id"]}
    unknown = {o.value for o in generated.cases.orphans if o.reason == "unknown_provider"}
    for provider_id in owners - unknown:
        email = overrides.get(provider_id) or providers[provider_id]["email"]
        assert email in users, provider_id
    missing = [p for p in providers if (overrides.get(p) or providers[p]["email"]) not in users]
    assert missing and set(missing) == set(generated.cases.providers_not_in_zoho)
    assert not (set(missing) & owners), "providers absent from Zoho own no records"


def test_unresolved_providers_and_clean_exports_on_request(tmp_path):
    result = generate_export(tmp_path / "u", 300, seed=3, with_files=False, defects=False, unresolved_providers=1)
    assert len(result.cases.unresolved_providers) == 1
    provider = result.cases.unresolved_providers[0]
    assert provider not in result.cases.email_overrides
    visits = _table(result.export_dir, "appointments")
    assert any(v["provider_id"] == provider for v in visits.values())
    assert not (result.cases.malformed_rows or result.cases.invalid_values or result.cases.orphans)
    assert result.files_written == 0 and not any((result.export_dir / "files").iterdir())


def test_cp1252_output_on_request(tmp_path):
    result = generate_export(tmp_path / "w", 200, seed=1, with_files=False, encoding="cp1252")
    raw = (result.export_dir / "patients.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("cp1252").startswith("patient_id,")


def test_command_prints_counts(tmp_path, capsys):
    from clinic2zoho.cli import main

    assert main(["generate", "--patients", "50", "--seed", "5", "--out", str(tmp_path / "c"), "--no-files"]) == 0
    out = capsys.readouterr().out
    assert "patients" in out and "total rows" in out
    assert (tmp_path / "c" / "export" / "manifest.json").is_file()
