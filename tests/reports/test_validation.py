"""Validation, the sample diff and the Workflow Rebuild Reference over a sample migrated into the
local Zoho server through the real pipeline (generate, land, dbt build, schema, select, load)."""

from __future__ import annotations

import csv
import json

import duckdb
import pytest

from clinic2zoho import cli
from clinic2zoho.reports import sample_diff, validate_run, write_workflow_rebuild
from clinic2zoho.reports.compare import MISMATCH
from clinic2zoho.reports.run_context import RunContext
from clinic2zoho.reports.validate import spot_sample
from tests.reports.scenario import reports_scenario  # noqa: F401  (session fixture)

pytestmark = pytest.mark.xdist_group("reports")


def _validate(s, tmp_path, **kw):
    with s.client() as client:
        return validate_run(s.run_id, client, warehouse=s.warehouse, journal_root=s.journal, manifest=s.manifest,
                            reports_dir=tmp_path, **kw)


def test_reconciliation_adds_up_and_a_clean_load_validates(reports_scenario, tmp_path):
    s = reports_scenario
    result = _validate(s, tmp_path, seed=1)
    assert result.problems == [] and result.ok
    by_module = {m.module: m for m in result.modules}
    assert set(by_module) == set(s.selection.tables)
    for module, rows in s.selection.tables.items():
        m = by_module[module]
        assert m.table_rows == rows
        assert m.loaded + m.rejected + m.skipped == rows and m.pending == 0, module
        assert sum(r["n"] for r in m.reject_reasons) == m.rejected and all(r["code"] for r in m.reject_reasons)
    con = duckdb.connect(str(s.warehouse), read_only=True)
    done = dict(con.execute("SELECT module, count(*) FROM ops.load_journal WHERE run_id = ? AND status = 'done'"
                            " GROUP BY 1", [s.run_id]).fetchall())
    con.close()
    assert {m: by_module[m].loaded for m in done} == done
    assert all(src.adds_up for src in result.sources) and result.sources
    # a random 5% of each module, at least 3 records, every field compared
    for module, n in result.spot_sample.items():
        assert n == min(by_module[module].loaded, max(3, -(-by_module[module].loaded * 5 // 100)))
    assert sum(1 for c in result.spot_checks if c.status == "match") > 100
    assert result.integrity == [] and result.integrity_checked.get("Notes", 0) > 0
    report = json.loads((tmp_path / "reconciliation.json").read_text())
    assert list(report)[0] == "summary" and report["summary"]["status"] == "passed"
    assert report["summary"]["rollback_command"] is None
    page = (tmp_path / "reconciliation.html").read_text()
    assert page.index("PASSED") < page.index("<h2>")  # summary first


def test_the_sample_diff_compares_every_mapped_field_of_every_sampled_record(reports_scenario, tmp_path):
    s = reports_scenario
    with s.client() as client:
        diff = sample_diff(s.run_id, client, warehouse=s.warehouse, journal_root=s.journal, manifest=s.manifest,
                           reports_dir=tmp_path)
    assert [(c.module, c.key, c.field, c.rule, c.source_value, c.expected, c.actual) for c in diff.mismatches] == []
    assert diff.ok
    assert diff.records == s.selection.tables
    rows = list(csv.DictReader((tmp_path / "sample_diff.csv").open(encoding="utf-8")))
    assert list(rows[0]) == ["status", "module", "record", "field", "source_file", "source_row", "source_column",
                             "source_value", "rule", "kind", "expected", "actual", "dbt_value", "zoho_id"]
    contacts = {r["record"] for r in rows if r["module"] == "Contacts" and r["status"] == "match"}
    con = duckdb.connect(str(s.warehouse), read_only=True)
    loaded = {k for (k,) in con.execute("SELECT source_key FROM ops.load_journal WHERE run_id = ? AND module ="
                                        " 'Contacts' AND status = 'done'", [s.run_id]).fetchall()}
    con.close()
    assert contacts == loaded
    # declared rules are compared with the source row the record came from, derived ones with dbt's value
    status = next(r for r in rows if r["module"] == "Contacts" and r["field"] == "Patient_Status")
    assert status["rule"] == ("value map patient_status_map: patients.status → Contacts.Patient_Status"
                              " (mapping/generic.yml, zoho_contacts)")
    assert (status["kind"], status["source_file"], status["source_column"]) == ("value map", "patients.csv", "status")
    con = duckdb.connect(str(s.warehouse), read_only=True)
    landed = con.execute("SELECT _source_row, status FROM raw.generic__patients WHERE patient_id = ?",
                         [status["record"]]).fetchone()
    con.close()
    assert (int(status["source_row"]), status["source_value"]) == landed
    kinds = {(r["module"], r["field"]): r["kind"] for r in rows}
    assert kinds[("Contacts", "Mailing_City")] == "copy" and kinds[("Contacts", "Date_of_Birth")] == "cast"
    assert kinds[("Events", "Start_DateTime")] == "cast" and kinds[("Contacts", "Account_Name")] == "derived"
    owner = next(r for r in rows if r["module"] == "Events" and r["field"] == "Owner")
    assert owner["source_column"] == "provider_id" and owner["rule"].endswith("[derived from appointments.provider_id]")
    assert all(r["source_file"] and r["source_row"] for r in rows if r["module"] in ("Contacts", "Events", "Tasks"))
    # lookups compare through the crosswalk, owners through the org's users
    assert any(r["field"] == "Who_Id" and r["status"] == "match" for r in rows)
    assert any(r["module"] == "Events" and r["field"] == "Owner" and r["status"] == "match" for r in rows)


def test_workflow_rebuild_reference_lists_every_workflow(reports_scenario, tmp_path):
    s = reports_scenario
    ref = write_workflow_rebuild(s.warehouse, tmp_path)
    con = duckdb.connect(str(s.warehouse), read_only=True)
    ids = {r[0] for r in con.execute("SELECT workflow_id FROM audit.workflow_rebuild_reference").fetchall()}
    con.close()
    md = ref.markdown_path.read_text()
    assert ids and {w["workflow_id"] for w in ref.workflows} == ids
    assert all(f"({i})" in md for i in ids) and "Workflow Rule" in md
    assert "<table>" in ref.html_path.read_text()


def test_a_corrupted_field_is_caught_by_the_diff_and_the_spot_check(reports_scenario, tmp_path, monkeypatch, capsys):
    s = reports_scenario
    ctx = RunContext.open(s.run_id, s.warehouse, s.journal, s.manifest)
    key = spot_sample(ctx, 0.05, 3, seed=5)["Contacts"][0]  # a record the seeded spot check reads
    zid = ctx.journal_rows("Contacts")[key].zoho_id
    with s.client() as client:
        original = client.get("Contacts", zid)["Mailing_City"]
    s.server.set_record_fields("Contacts", zid, {"Mailing_City": "Nowhere Corrupted"})
    try:
        result = _validate(s, tmp_path, seed=5)
        assert not result.ok
        bad = [(c.module, c.key, c.field) for c in result.mismatches]
        assert bad == [("Contacts", key, "Mailing_City")]
        assert any("spot check" in p for p in result.problems)
        assert result.rollback_command == f"clinic2zoho rollback --run {s.run_id}"
        with s.client() as client:
            diff = sample_diff(s.run_id, client, warehouse=s.warehouse, journal_root=s.journal,
                               manifest=s.manifest, reports_dir=tmp_path)
        first = diff.rows[0]
        assert (first.status, first.module, first.key, first.field) == (MISMATCH, "Contacts", key, "Mailing_City")
        assert first.actual == "Nowhere Corrupted" and first.expected == original
        assert len(diff.mismatches) == 1
        assert list(csv.reader((tmp_path / "sample_diff.csv").open(encoding="utf-8")))[1][:4] == \
            ["mismatch", "Contacts", key, "Mailing_City"]
        for name, value in s.env().items():
            monkeypatch.setenv(name, value)
        code = cli.main(["validate", "--run", s.run_id, "--seed", "5", "--warehouse", str(s.warehouse),
                         "--journal", str(s.journal), "--manifest", str(s.manifest), "--out", str(tmp_path / "cli")])
        out = capsys.readouterr().out
        assert code == 1 and f"clinic2zoho rollback --run {s.run_id}" in out
        assert "Nowhere" not in out  # record ids in the terminal, values only in the reports
        assert "Nowhere Corrupted" in (tmp_path / "cli" / "reconciliation.html").read_text()
    finally:
        s.server.set_record_fields("Contacts", zid, {"Mailing_City": original})


def test_integrity_catches_a_note_whose_parent_was_deleted(reports_scenario, tmp_path):
    # runs last: it deletes a record of the shared org
    s = reports_scenario
    ctx = RunContext.open(s.run_id, s.warehouse, s.journal, s.manifest)
    notes = {k: j for k, j in ctx.journal_rows("Notes").items() if j.status == "done"}
    title, note = sorted(notes.items())[0]
    with s.client() as client:
        assert client.delete("Contacts", [note.parent_id])[0].ok
    result = _validate(s, tmp_path, seed=1)
    assert not result.ok
    broken = {(p.module, p.key, p.relation) for p in result.integrity}
    assert ("Notes", title, "Parent") in broken
    assert any(p.startswith("integrity:") for p in result.problems)
