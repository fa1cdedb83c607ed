"""The Data Quality Report over really landed exports: it finds what the generator put in, and the
gaps of the shared Synthea and FHIR exports."""

from __future__ import annotations

import csv
import json

import pytest

from clinic2zoho.generator import generate_export
from clinic2zoho.landing import land_export, land_users
from clinic2zoho.quality import QualityError, build_quality_report

MATCH = 0.9


@pytest.fixture(scope="module")
def generic(tmp_path_factory):
    """A generated export of 400 patients, landed with its Zoho users, and its report."""
    root = tmp_path_factory.mktemp("quality-generic")
    generated = generate_export(root / "gen", 400, seed=11)
    warehouse = root / "warehouse.duckdb"
    land_export(generated.export_dir, warehouse=warehouse)
    land_users(generated.zoho_users_path, warehouse=warehouse)
    report = build_quality_report(warehouse, root / "reports")
    return generated, warehouse, report, report["sources"][0]


def test_report_files_are_written_with_the_summary_first(generic):
    _, _, report, _ = generic
    saved = json.loads(open(report["paths"]["json"], encoding="utf-8").read())
    assert saved["summary"] == report["summary"]
    html = open(report["paths"]["html"], encoding="utf-8").read()
    assert html.index("Summary") < html.index("Complexity by object") < html.index("Possible duplicate patients")
    assert report["summary"]["formats"] == ["generic"]


def test_counts_per_entity_match_the_files(generic):
    generated, _, _, source = generic
    records = {e["entity"]: e["records"] for e in source["entities"]}
    rejected = {}
    for bad in generated.cases.malformed_rows:
        rejected[bad.entity] = rejected.get(bad.entity, 0) + 1
    for entity, written in generated.counts.items():
        assert records[entity] == written - rejected.get(entity, 0), entity
    assert records["workflows"] == 6


def test_injected_duplicates_are_found_with_high_probability_and_nothing_else(generic):
    generated, _, report, source = generic
    found = {frozenset((p["id_1"], p["id_2"])): p["match_probability"] for p in source["duplicates"]["items"]}
    injected = {frozenset((d.original_id, d.duplicate_id)) for d in generated.cases.duplicate_pairs}
    assert injected and all(found.get(pair, 0) >= MATCH for pair in injected)
    assert {pair for pair, prob in found.items() if prob >= MATCH} == injected
    assert report["summary"]["duplicate_pairs"] == source["duplicates"]["count"]


def test_duplicate_scores_are_reproducible(generic, tmp_path):
    _, warehouse, _, source = generic
    again = build_quality_report(warehouse, tmp_path)["sources"][0]["duplicates"]
    assert again["items"] == source["duplicates"]["items"]


def test_providers_without_email_and_without_zoho_user(generic):
    generated, _, _, source = generic
    providers = source["providers"]
    assert {p["provider_id"] for p in providers["missing_email"]["items"]} == set(generated.cases.providers_without_email)
    # providers with an email the Zoho org does not know: the inactive ones, and the one whose
    # export email is outdated (the overrides file corrects it)
    with open(generated.overrides_path, encoding="utf-8") as fh:
        overrides = dict(list(csv.reader(fh))[1:])
    unmatched = {p["provider_id"] for p in providers["unmatched_in_zoho"]["items"]}
    expected = (set(generated.cases.providers_not_in_zoho) - set(generated.cases.providers_without_email))
    assert unmatched - set(overrides) == expected


def test_oversized_documents_and_long_notes(generic):
    generated, _, report, source = generic
    docs = source["documents"]
    assert {d["document_id"] for d in docs["over_limit"]["items"]} == set(generated.cases.oversized_documents)
    assert all(d["size_bytes"] > docs["limit_bytes"] for d in docs["over_limit"]["items"])
    assert docs["missing_file"]["count"] == 0 and docs["missing_file"]["checked"] == generated.counts["documents"]
    assert source["notes"]["over_limit"] == len(generated.cases.long_notes)
    assert report["summary"]["documents_over_limit"] == len(generated.cases.oversized_documents)


def test_invalid_values_are_exactly_the_injected_ones(generic):
    generated, _, _, source = generic
    found = {(f["entity"], f["column"], i["record_id"], i["value"])
             for f in source["invalid_values"] for i in f["items"]}
    injected = {(v.entity, v.column, v.record_id, v.value) for v in generated.cases.invalid_values}
    assert found == injected
    kinds = {f["kind"] for f in source["invalid_values"]}
    assert kinds == {"date", "email", "phone"}


def test_orphans_are_exactly_the_injected_ones(generic):
    generated, _, _, source = generic
    found = {(f["entity"], f["column"], i["record_id"], i["value"]) for f in source["orphans"] for i in f["items"]}
    injected = {(o.entity, o.column, o.record_id, o.value) for o in generated.cases.orphans}
    assert found == injected


def test_rejects_by_reason(generic):
    generated, _, report, _ = generic
    rejects = report["rejects"]
    assert rejects["records"] == len(generated.cases.malformed_rows)
    by_file = {(g["source_file"].rsplit("/", 1)[-1], g["first_row"]) for g in rejects["groups"]}
    assert by_file == {(f"{m.entity}.csv", m.source_row) for m in generated.cases.malformed_rows}
    assert {g["reason"] for g in rejects["groups"]} == {"too many columns", "missing columns"}


def test_complexity_grade(generic):
    _, _, report, source = generic
    objects = {o["object"]: o for o in source["complexity"]["objects"]}
    assert objects["clinics"]["grade"] == "A"
    assert objects["workflows"]["grade"] == "D"
    assert objects["referral_sources"]["grade"] == "B"
    assert objects["patients"]["grade"] == "C"
    assert any("duplicate" in r for r in objects["patients"]["reasons"])
    assert any("attachment limit" in r for r in objects["documents"]["reasons"])
    assert source["complexity"]["grade"] in {"B", "C"} and report["summary"]["grade"] == source["complexity"]["grade"]


def test_every_synthea_provider_is_missing_an_email(synthea_dir, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    land_export(synthea_dir, warehouse=warehouse)
    report = build_quality_report(warehouse, tmp_path / "reports")
    source = report["sources"][0]
    assert source["format"] == "synthea"
    with open(synthea_dir / "providers.csv", encoding="utf-8", newline="") as fh:
        providers = {row["Id"] for row in csv.DictReader(fh)}
    missing = source["providers"]["missing_email"]
    assert not source["providers"]["has_email_column"]
    assert missing["count"] == source["providers"]["total"] == len(providers)
    assert {p["provider_id"] for p in missing["items"]} == providers
    objects = {o["object"]: o for o in source["complexity"]["objects"]}
    assert objects["providers"]["grade"] == "C" and objects["organizations"]["grade"] == "A"
    assert source["documents"] is None and report["rejects"]["records"] == 0


def test_fhir_export_documents_and_practitioners(fhir_dir, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    land_export(fhir_dir, warehouse=warehouse)
    source = build_quality_report(warehouse, tmp_path / "reports")["sources"][0]
    assert source["format"] == "fhir"
    with open(fhir_dir / "DocumentReference.000.ndjson", encoding="utf-8") as fh:
        documents = sum(1 for line in fh if line.strip())
    assert source["documents"]["total"] == documents
    assert source["documents"]["unknown_size"] == 0
    with open(fhir_dir / "Practitioner.000.ndjson", encoding="utf-8") as fh:
        practitioners = [json.loads(line) for line in fh if line.strip()]
    no_email = {p["id"] for p in practitioners
                if not any(t.get("system") == "email" for t in p.get("telecom", []))}
    assert {p["provider_id"] for p in source["providers"]["missing_email"]["items"]} == no_email


def test_command_prints_summary_and_fails_clearly_without_warehouse(generic, tmp_path, capsys):
    from clinic2zoho.cli import main

    _, warehouse, _, _ = generic
    assert main(["quality", "--warehouse", str(warehouse), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "duplicate patient pairs" in out and str(tmp_path / "data_quality.html") in out
    assert main(["quality", "--warehouse", str(tmp_path / "none.duckdb"), "--out", str(tmp_path)]) == 1
    assert "land an export first" in capsys.readouterr().err
    with pytest.raises(QualityError):
        build_quality_report(tmp_path / "none.duckdb", tmp_path)


def test_default_paths_come_from_the_work_folder(work_home, tmp_path):
    generated = generate_export(tmp_path / "gen", 60, seed=2, with_files=False, defects=False)
    land_export(generated.export_dir)
    report = build_quality_report()
    assert report["paths"]["html"] == str(work_home / "reports" / "data_quality.html")
    assert report["summary"]["orphans"] == 0 and report["summary"]["invalid_values"] == 0
    # documents listed but not written: every file is reported missing
    assert report["sources"][0]["documents"]["missing_file"]["count"] == generated.counts["documents"]


def test_document_paths_leaving_the_export_are_reported_and_never_looked_at(work_home, tmp_path):
    """A sentinel outside the export exists; the report must not count it as the document's file."""
    generated = generate_export(tmp_path / "gen", 80, seed=3, with_files=False, defects=False)
    export = generated.export_dir
    sentinel = tmp_path / "sentinel.txt"
    sentinel.write_text("outside the export")
    docs = export / "documents.csv"
    with open(docs, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["file_path"] = "../../sentinel.txt"  # climbs from the export folder to tmp_path
    rows[1]["file_path"] = str(sentinel)  # absolute
    (export / "files").mkdir(exist_ok=True)
    (export / "files" / "inside.pdf").write_bytes(b"%PDF")
    rows[2]["file_path"] = "files/inside.pdf"
    with open(docs, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert len(rows) > 3 and (export / "../../sentinel.txt").is_file()  # the file the path names exists
    land_export(export)
    report = build_quality_report()["sources"][0]["documents"]
    outside = {x["document_id"] for x in report["outside_export"]["items"]}
    assert outside == {rows[0]["document_id"], rows[1]["document_id"]}
    missing = {x["document_id"] for x in report["missing_file"]["items"]}
    assert missing == {r["document_id"] for r in rows[3:]}
    html = (work_home / "reports" / "data_quality.html").read_text(encoding="utf-8")
    assert "2 paths leaving the export folder" in html
