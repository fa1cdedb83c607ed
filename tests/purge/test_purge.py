"""`clinic2zoho purge` on a work folder laid out as migrate leaves it (a landed export, the tables
dbt would build, the load journal and its copy in `ops`, reports, a local org), with one patient's
name planted everywhere a value can hide: afterwards no file of the folder holds it, byte for byte
(the local orgs only when asked), while the journal's rows, ids and audit calls remain."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from clinic2zoho import cli
from clinic2zoho.generator import generate_export
from clinic2zoho.landing import land_export
from clinic2zoho.loader.journal import AuditLog, JournalSegment, publish
from clinic2zoho.purge.reports import counts_only

MARKER = "Quenbyzar Vextrolm"
FIRST, LAST = MARKER.split()
RUN = "manual__2026-01-05T10_00_00_00_00"


class Call:  # what the Zoho client reports of one call
    method, path, module, record_count, credits, status, duration = "POST", "/crm/v8/Contacts", "Contacts", 2, 1, 201, 0.1


def _plant(export: Path) -> None:
    path = export / "patients.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[0].update(first_name=FIRST, last_name=LAST)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _journal(home: Path, warehouse: Path, *, in_flight: bool = False) -> None:
    root = home / "journal"
    with JournalSegment(root, RUN, "Contacts") as seg:
        seg.intent([{"source_key": "PT0000001", "operation": "insert"},
                    {"source_key": "PT0000002", "operation": "update", "zoho_id": "9000002",
                     "before_image": {"First_Name": FIRST, "Last_Name": LAST}}], "records", "b1")
        seg.sent(["PT0000001", "PT0000002"])
        if not in_flight:
            seg.done([{"source_key": "PT0000001", "zoho_id": "9000001", "operation": "insert"},
                      {"source_key": "PT0000002", "zoho_id": "9000002", "operation": "update"}])
        seg.reject([{"source_key": "PT0000003", "code": "DUPLICATE_DATA", "field": "Email",
                     "message": f"duplicate of {MARKER}"}])
    with JournalSegment(root, RUN, "Notes") as seg:
        seg.intent([{"source_key": "N1", "operation": "insert", "label": f"{MARKER} visit", "parent_id": "9000001"}],
                   "records", "b2")
        seg.done([{"source_key": "N1", "zoho_id": "9100001", "operation": "insert"}])
    (root / RUN / "run.json").write_text(json.dumps({"run_id": RUN, "plan": {"modules": []}}))
    audit = AuditLog(root, RUN)
    audit(Call())
    audit.close()
    publish(root, warehouse, RUN)


def _reports(home: Path) -> None:
    reports = home / "reports"
    reports.mkdir()
    (reports / "sample_diff.csv").write_text(f"module,key,field,status,source,zoho\nContacts,PT0000001,First_Name,"
                                             f"match,{FIRST},{FIRST}\nContacts,PT0000001,Last_Name,mismatch,{LAST},x\n")
    (reports / "sample_diff.html").write_text(f"<td>{MARKER}</td>")
    (reports / "reconciliation.json").write_text(json.dumps({
        "summary": {"run_id": RUN, "status": "passed", "loaded": 3, "rejected": 1, "problems": [f"{MARKER} twice"]},
        "spot_check": {"checks": [{"module": "Contacts", "key": "PT0000001", "field": "First_Name", "status": "match",
                                   "expected": FIRST, "actual": FIRST}]}}))
    (reports / "data_quality.json").write_text(json.dumps({"summary": {"records": 6, "duplicate_pairs": 1},
                                                           "duplicates": {"items": [{"name": MARKER, "score": 0.9}]}}))
    (reports / "mapping_review_generic.html").write_text(f"examples: {MARKER}")
    (reports / f"load_{RUN}.json").write_text(json.dumps({"run_id": RUN, "modules": [{"module": "Contacts", "done": 2}]}))
    (reports / "workflow_rebuild.md").write_text("# Workflows\nreminder 24 h before a visit\n")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("purge") / "work"
    generate_export(home / "generated", 6, seed=3, with_files=False)
    _plant(home / "generated" / "export")
    warehouse = home / "warehouse.duckdb"
    land_export(home / "generated" / "export", "generic", warehouse=warehouse)
    con = duckdb.connect(str(warehouse))  # what dbt builds from the landed rows
    con.execute("CREATE SCHEMA staging; CREATE VIEW staging.stg_generic__patients AS SELECT * FROM raw.generic__patients;"
                "CREATE SCHEMA zoho; CREATE TABLE zoho.zoho_contacts AS SELECT patient_id AS Clinic_Patient_Id,"
                " first_name AS First_Name, last_name AS Last_Name FROM raw.generic__patients")
    con.close()
    _journal(home, warehouse)
    _reports(home)
    (home / "warehouse.dbt_target").mkdir()
    (home / "warehouse.dbt_target" / "run_results.json").write_text(f'{{"message": "could not convert {MARKER}"}}')
    (home / "zoho" / "production").mkdir(parents=True)
    with sqlite3.connect(home / "zoho" / "production" / "state.sqlite") as org:
        org.execute("CREATE TABLE records (id TEXT, data TEXT)")
        org.execute("INSERT INTO records VALUES ('9000001', ?)", [json.dumps({"First_Name": FIRST})])
    org.close()
    (home / "logs").mkdir()
    (home / "logs" / "clinic_cutover.log").write_text("loaded 3 records of run " + RUN + "\n")
    (home / "migration.json").write_text(json.dumps({"source": "generated", "format": "generic"}))
    return home


@pytest.fixture
def work(template, tmp_path) -> Path:
    home = tmp_path / "work"
    shutil.copytree(template, home)
    return home


def holding(home: Path, text: str = FIRST) -> list[str]:
    """Every file of the folder whose bytes hold `text`."""
    return sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file() and text.encode() in p.read_bytes())


def purge(home: Path, *extra: str) -> int:
    return cli.main(["purge", "--work", str(home), *extra])


def test_the_planted_name_is_everywhere_before(work):
    found = holding(work)
    assert {"warehouse.duckdb", "reports/sample_diff.csv", "reports/reconciliation.json", "reports/data_quality.json",
            "zoho/production/state.sqlite", "generated/export/patients.csv", "warehouse.dbt_target/run_results.json",
            f"journal/{RUN}/Contacts.duckdb", f"journal/{RUN}/Notes.duckdb"} <= set(found), found


def test_purge_removes_every_patient_value_and_keeps_the_audit_and_ids(work, capsys):
    assert purge(work, "--yes", "--after-cutover") == 0
    out = capsys.readouterr().out
    assert holding(work) == ["zoho/production/state.sqlite"] and holding(work, LAST) == []  # the org: first name only
    assert "--include-local-orgs removes them" in out and "rollback can no longer restore the 1 updated record" in out

    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    tables = {r[0] for r in con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()}
    assert not any(t.startswith(("staging.", "zoho.")) or t.startswith("raw.generic__") for t in tables), tables
    assert {"ops.load_journal", "ops.audit_log", "raw._file_loads", "ops.purges"} <= tables
    rows = con.execute("SELECT module, source_key, zoho_id, status, operation, error_code, error_field, before_image,"
                       " label, error FROM ops.load_journal ORDER BY module, source_key").fetchall()
    assert rows == [("Contacts", "PT0000001", "9000001", "done", "insert", None, None, None, None, None),
                    ("Contacts", "PT0000002", "9000002", "done", "update", None, None, None, None, None),
                    ("Contacts", "PT0000003", None, "rejected", None, "DUPLICATE_DATA", "Email", None, None, None),
                    ("Notes", "N1", "9100001", "done", "insert", None, None, None, None, None)]
    assert con.execute("SELECT method, module, record_count FROM ops.audit_log").fetchall() == [("POST", "Contacts", 2)]
    assert con.execute("SELECT sum(rows_landed) FROM raw._file_loads WHERE entity = 'patients'").fetchone()[0] == 6
    con.close()

    # The journal's own segments: the same ids, still writable (a rollback of the created records).
    with JournalSegment(work / "journal", RUN, "Contacts") as seg:
        entries = seg.entries()
        assert {k: (e.zoho_id, e.before_image) for k, e in entries.items() if e.status == "done"} == {
            "PT0000001": ("9000001", None), "PT0000002": ("9000002", None)}
        seg.rollback_mark([{"source_key": "PT0000001", "zoho_id": "9000001", "action": "delete"}], "done")

    reports = sorted(p.name for p in (work / "reports").iterdir())
    assert reports == [f"load_{RUN}.json", "purge.json", "workflow_rebuild.md"]
    record = json.loads((work / "reports" / "purge.json").read_text())["purges"][-1]
    assert record["report_counts"]["reconciliation.json"]["summary"] == {
        "run_id": RUN, "status": "passed", "loaded": 3, "rejected": 1, "problems": 1}
    assert record["report_counts"]["sample_diff.csv"] == {"fields_compared": 2, "by_status": {"match": 1, "mismatch": 1}}
    assert not (work / "generated").exists() and not (work / "warehouse.dbt_target").exists()
    assert (work / "logs" / "clinic_cutover.log").is_file() and (work / "migration.json").is_file()
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in [work, *work.rglob("*")])


def test_local_orgs_go_only_when_asked(work):
    assert purge(work, "--yes", "--after-cutover", "--include-local-orgs") == 0
    assert holding(work) == [] and not (work / "zoho").exists()


def test_purge_refuses_while_updated_records_could_be_restored(work, capsys):
    assert purge(work, "--yes") == 2
    err = capsys.readouterr().err
    assert "rollback will no longer be possible for the 1 record(s) the load updated" in err
    assert "--after-cutover" in err and "created can still be deleted by id" in err
    assert "reports/sample_diff.csv" in holding(work) and "warehouse.duckdb" in holding(work)


def test_purge_asks_and_removes_nothing_unconfirmed(work, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    assert purge(work, "--after-cutover") == 2
    assert "nothing removed: confirm with --yes" in capsys.readouterr().err
    assert purge(work, "--after-cutover", "--dry-run") == 0
    assert "would remove" in capsys.readouterr().out
    assert "warehouse.duckdb" in holding(work) and (work / "generated").is_dir()


def test_purge_refuses_a_load_stopped_midway(tmp_path, capsys):
    home = tmp_path / "work"
    home.mkdir()
    _journal(home, home / "warehouse.duckdb", in_flight=True)
    assert purge(home, "--yes", "--after-cutover") == 2
    assert "a load stopped midway" in capsys.readouterr().err


def test_purge_refuses_while_the_delta_window_is_open(work, capsys):
    from clinic2zoho.delta.window import SCHEMA_SQL

    now = datetime.now(timezone.utc)
    con = duckdb.connect(str(work / "warehouse.duckdb"))
    con.execute(SCHEMA_SQL)
    con.execute("INSERT INTO ops.delta_window (window_id, cutover_run_id, source, format, hours, opened_at, closes_at,"
                " status, updated_at) VALUES ('w1', ?, 'export', 'generic', 24, ?, ?, 'open', ?)",
                [RUN, now, now + timedelta(hours=24), now])
    con.close()
    assert purge(work, "--yes", "--after-cutover") == 2
    assert "delta window w1" in capsys.readouterr().err


def test_a_folder_that_is_no_work_folder_is_refused(tmp_path, capsys):
    (tmp_path / "photos").mkdir()
    assert purge(tmp_path / "photos", "--yes") == 2
    assert "not a clinic2zoho work folder" in capsys.readouterr().err


def test_counts_keep_numbers_and_names_never_values():
    report = {"summary": {"loaded": 3, "status": "passed", "note": "Jane Doe"},
              "checks": [{"module": "Contacts", "expected": 1980, "actual": "Jane", "n": 2}], "names": ["Jane", "Joe"]}
    assert counts_only(report) == {"summary": {"loaded": 3, "status": "passed"},
                                   "checks": [{"module": "Contacts", "n": 2}], "names": 2}


def test_an_export_given_to_migrate_is_never_removed_even_inside_the_folder(work, capsys):
    given = work / "clinic_export"
    given.mkdir()
    (given / "patients.csv").write_text(f"patient_id,first_name\nPT0000001,{FIRST}\n")
    (work / "migration.json").write_text(json.dumps({"source": str(given), "format": "generic"}))
    assert purge(work, "--yes", "--after-cutover", "--include-local-orgs") == 0
    assert holding(work) == ["clinic_export/patients.csv"]
    assert "clinic_export (the export migrate was given" in capsys.readouterr().out
