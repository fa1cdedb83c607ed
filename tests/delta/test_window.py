"""The delta window's state in the warehouse: opening (checks, watermark, fingerprints,
baseline), closing by time, superseding, and the row-level staging of changes."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta, timezone

import duckdb
import pytest

from clinic2zoho.delta import (DeltaWindowError, check_window, current_window, get_window, list_windows,
                               open_window, recorded_files)
from clinic2zoho.delta.baseline import commit_sent, stage_changes
from clinic2zoho.delta.window import connect
from clinic2zoho.loader.plan import LoadPlan, ModuleSpec

PLAN = LoadPlan((
    ModuleSpec(table="zoho.zoho_contacts", module="Contacts", external_id="Clinic_Patient_Id"),
    ModuleSpec(table="zoho.zoho_notes", module="Notes", parent_column="Parent_Id", parent_module="Contacts"),
))


@pytest.fixture
def warehouse(work_home, tmp_path):
    """A landed export (for the watermark) and two Zoho-shaped tables as dbt leaves them."""
    from clinic2zoho.generator import generate_export
    from clinic2zoho.landing import land_export

    generate_export(tmp_path / "gen", 3, seed=2, with_files=False, defects=False)
    land_export(tmp_path / "gen" / "export", "generic")
    path = work_home / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA zoho")
        con.execute("CREATE TABLE zoho.zoho_contacts (Clinic_Patient_Id VARCHAR, Phone VARCHAR, Last_Name VARCHAR,"
                    " _helper VARCHAR)")
        con.execute("INSERT INTO zoho.zoho_contacts VALUES ('PT1', '555 0100', 'A', 'x'), ('PT2', NULL, 'B', 'y'),"
                    " ('PT3', '555 0300', 'C', 'z'), (NULL, '1', 'no key', NULL)")
        con.execute("CREATE TABLE zoho.zoho_notes (Note_Title VARCHAR, Note_Content VARCHAR, Parent_Id VARCHAR)")
        con.execute("INSERT INTO zoho.zoho_notes VALUES ('2024-01-01 Note [n:1] (1/1)', 'first', 'PT1')")
    return path


def _export(tmp_path):
    return tmp_path / "gen" / "export"


@pytest.mark.parametrize("hours, fmt, message", [
    (12, "generic", "24 to 48 hours"), (49, "generic", "24 to 48 hours"), (24, "csv", "format must be one of"),
])
def test_open_window_refuses_bad_arguments(warehouse, tmp_path, hours, fmt, message):
    with pytest.raises(DeltaWindowError, match=message):
        open_window("cutover-1", hours, _export(tmp_path), fmt, plan=PLAN)
    assert list_windows() == []


def test_open_window_records_watermark_files_and_baseline(warehouse, tmp_path):
    now = datetime(2030, 1, 1, 12, tzinfo=timezone.utc)
    late = _export(tmp_path) / "treatments.csv"  # changed after the cutover landed it
    time.sleep(0.01)
    os.utime(late)
    window = open_window("manual__2024-01-01T00:00:00+00:00", 36, _export(tmp_path), "generic", plan=PLAN,
                         dbt_vars={"clinic_timezone": "Europe/Paris"}, now=now)
    assert window.cutover_run_id == "manual__2024-01-01T00_00_00_00_00"  # the journal's spelling
    assert window.is_open and window.opened_at == now and window.closes_at == now + timedelta(hours=36)
    assert window.dbt_vars == {"clinic_timezone": "Europe/Paris"}
    assert window.plan.modules() == ["Contacts", "Notes"]
    with connect(read_only=True) as con:
        assert window.watermark_at == con.execute("SELECT max(finished_at) FROM raw._batches").fetchone()[0]
        baseline = dict(con.execute("SELECT module, count(*) FROM ops.delta_baseline WHERE window_id = ?"
                                    " GROUP BY module", [window.window_id]).fetchall())
    assert baseline == {"Contacts": 3, "Notes": 1}  # the row without a key is not tracked
    files = recorded_files(window.window_id)
    assert "patients.csv" in files and files["patients.csv"].sha256
    assert "treatments.csv" not in files  # left for the first delta run to take up
    assert current_window().window_id == window.window_id


def test_a_new_window_supersedes_the_open_one(warehouse, tmp_path):
    first = open_window("cutover-1", 24, _export(tmp_path), "generic", plan=PLAN)
    second = open_window("cutover-2", 48, _export(tmp_path), "generic", plan=PLAN)
    assert current_window().window_id == second.window_id
    old = get_window(first.window_id)
    assert old.status == "closed" and old.close_reason == f"superseded by {second.window_id}"


def test_check_window_runs_then_closes_the_window_when_its_time_passed(warehouse, tmp_path):
    opened = datetime.now(timezone.utc)
    window = open_window("cutover-1", 24, _export(tmp_path), "generic", plan=PLAN, now=opened)
    running = check_window(now=opened + timedelta(hours=23, minutes=59))
    assert running.action == "run" and running.proceed and running.window.window_id == window.window_id
    closing = check_window(now=opened + timedelta(hours=24))
    assert closing.action == "closed_now" and not closing.proceed
    assert "closed at" in closing.message and window.window_id in closing.message
    assert get_window(window.window_id).status == "closed"
    assert check_window(now=opened + timedelta(hours=25)).action == "none"


def test_changes_are_staged_against_the_baseline_and_committed_once_final(warehouse, tmp_path):
    window = open_window("cutover-1", 24, _export(tmp_path), "generic", plan=PLAN)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE zoho.zoho_contacts SET Phone = '555 0199' WHERE Clinic_Patient_Id = 'PT1'")
        con.execute("UPDATE zoho.zoho_contacts SET _helper = 'moved' WHERE Clinic_Patient_Id = 'PT2'")  # not sent
        con.execute("DELETE FROM zoho.zoho_contacts WHERE Clinic_Patient_Id = 'PT3'")
        con.execute("INSERT INTO zoho.zoho_contacts VALUES ('PT4', '555 0400', 'D', NULL)")
        con.execute("UPDATE zoho.zoho_notes SET Note_Content = 'edited'")
        con.execute("INSERT INTO zoho.zoho_notes VALUES ('2024-02-01 Note [n:2] (1/1)', 'second', 'PT4')")

    with connect() as con:
        staged = stage_changes(con, window.window_id, "delta-1", PLAN)
        contacts = con.execute("SELECT Clinic_Patient_Id, Phone FROM delta.zoho_contacts ORDER BY 1").fetchall()
        notes = con.execute("SELECT Note_Title FROM delta.zoho_notes").fetchall()
    assert contacts == [("PT1", "555 0199"), ("PT4", "555 0400")]
    assert notes == [("2024-02-01 Note [n:2] (1/1)",)]  # a note is added, never rewritten
    assert staged.new == {"Contacts": 1, "Notes": 1} and staged.changed == {"Contacts": 1, "Notes": 0}
    assert staged.children_changed == {"Notes": 1} and staged.removed == {"Contacts": 1}
    assert staged.modules_to_load() == ["Contacts", "Notes"]
    assert [s.table for s in staged.plan.specs] == ["delta.zoho_contacts", "delta.zoho_notes"]

    with connect() as con:  # PT1 and the new note reached Zoho; PT4 is still pending
        committed = commit_sent(con, window.window_id, "delta-1",
                                [("Contacts", "PT1"), ("Notes", "2024-02-01 Note [n:2] (1/1)")],
                                datetime.now(timezone.utc))
        again = stage_changes(con, window.window_id, "delta-2", PLAN)
        left = con.execute("SELECT Clinic_Patient_Id FROM delta.zoho_contacts").fetchall()
    assert committed == 2
    assert left == [("PT4",)] and again.modules_to_load() == ["Contacts"]


def test_the_plan_comes_from_the_cutover_run_journal(warehouse, tmp_path, work_home):
    run_dir = work_home / "journal" / "cutover-9"
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps({"run_id": "cutover-9", "plan": json.loads(PLAN.to_json())}))
    window = open_window("cutover-9", 24, _export(tmp_path), "generic")
    assert window.plan == PLAN


def test_without_a_journal_or_manifest_the_window_says_what_is_missing(warehouse, tmp_path, monkeypatch):
    import clinic2zoho.delta.window as window_module

    monkeypatch.setattr(window_module.settings, "DBT_PROJECT_DIR", tmp_path / "no-project")
    with pytest.raises(DeltaWindowError, match="no run.json in the journal"):
        open_window("cutover-x", 24, _export(tmp_path), "generic")


def test_migrate_prints_when_the_window_opened_and_closes_and_how_to_run_the_delta(warehouse, tmp_path):
    from clinic2zoho.delta.demo import window_lines

    assert window_lines(warehouse, "work") == []  # no window: nothing printed
    opened = datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc)
    open_window("cutover-1", 48, _export(tmp_path), "generic", plan=PLAN, now=opened)
    first, second = window_lines(warehouse, "work")
    assert "open from 2025-03-01 09:30 UTC until 2025-03-03 09:30 UTC (48 h)" in first
    assert "clinic_delta" in first and "closes itself" in first
    assert second.strip() == "carry changes now with: clinic2zoho migrate --work work --delta"


def test_a_rollback_of_the_cutover_closes_its_window_and_no_other(warehouse, tmp_path):
    from clinic2zoho.delta import close_windows_of_run

    assert close_windows_of_run("cutover-0", "rolled back") == []  # no window of that run
    window = open_window("manual__2025-03-01T09:00:00+00:00", 24, _export(tmp_path), "generic", plan=PLAN)
    assert close_windows_of_run("cutover-0", "rolled back") == [] and current_window() is not None
    closed = close_windows_of_run("manual__2025-03-01T09:00:00+00:00", "its cutover run was rolled back")
    assert [w.window_id for w in closed] == [window.window_id]
    assert get_window(window.window_id).close_reason == "its cutover run was rolled back"
