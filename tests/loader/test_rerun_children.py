"""A rerun in the same work folder, with a new run id, sends no note or attachment twice: children
are matched across every run not rolled back; an edited note is updated in place; a rolled-back
run's children load again; validation fails on a duplicate it finds in Zoho."""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest

from clinic2zoho.loader.journal import AuditLog, JournalReader
from clinic2zoho.loader.rollback import Rollback
from clinic2zoho.reports import validate_run

from clinic2zoho.loader.run import Loader
from clinic2zoho.loader.source import TableSource

from tests.loader.conftest import load, prepared_org, settings_for


def _children(org) -> tuple[Counter, Counter, dict[str, str]]:
    """Titles and file names of every note and attachment in the org, read back over HTTP, and
    each note's content by title."""
    with org.client() as c:
        notes = list(c.iter_records("Notes", ["Note_Title", "Note_Content"]))
        names = Counter(a["File_Name"] for r in c.iter_records("Contacts", ["Clinic_Patient_Id"])
                        for a in c.attachments("Contacts", r["id"]))
    return Counter(n["Note_Title"] for n in notes), names, {n["Note_Title"]: n["Note_Content"] for n in notes}


def _operations(clinic, run_id: str, module: str) -> Counter:
    """status:operation -> rows of the run's journal (d6, over the size limit, is left out)."""
    with JournalReader(clinic.journal, runs=[run_id]) as q:
        return Counter({f"{s}:{o}": n for s, o, n in q.sql(
            "SELECT status, operation, count(*) FROM load_journal WHERE module = ? AND source_key <> 'd6'"
            " GROUP BY ALL", [module])})


def _rollback(org, clinic, run_id: str, modules=None) -> None:
    audit = AuditLog(clinic.journal, run_id)
    with org.client(on_call=audit) as client:
        Rollback(client, run_id, clinic.journal).run(modules)
    audit.close()


NOTE3 = "2024-03-05 Progress note [n:3] (1/1)"


def test_a_second_run_with_a_new_run_id_sends_no_note_or_attachment_twice(org, clinic):
    load(org, clinic, run_id="run1")
    titles, names, _ = _children(org)
    assert sum(titles.values()) == 12 and names["doc-d1.txt"] == 1
    load(org, clinic, run_id="run2")
    assert _children(org)[:2] == (titles, names)
    assert set(titles.values()) == {1} and set(names.values()) == {1}
    # the second run accounts for every child as already in Zoho (nothing sent)
    assert _operations(clinic, "run2", "Notes") == {"done:unchanged": 12}
    assert _operations(clinic, "run2", "Attachments") == {"done:unchanged": 5}


def test_an_edited_note_is_updated_in_place_and_rolling_back_the_rerun_restores_it(org, clinic):
    load(org, clinic, run_id="run1")
    clinic.sql("UPDATE zoho.zoho_notes SET Note_Content = 'Corrected after review' WHERE Clinic_Note_Id = 'n3'")
    load(org, clinic, run_id="run2")
    titles, _, content = _children(org)
    assert titles[NOTE3] == 1 and sum(titles.values()) == 12
    assert content[NOTE3] == "Corrected after review"
    assert _operations(clinic, "run2", "Notes") == {"done:update": 1, "done:unchanged": 11}
    _rollback(org, clinic, "run2", ["Notes"])
    titles, _, content = _children(org)
    assert content[NOTE3] == "Seen for follow-up, note 3" and sum(titles.values()) == 12


def test_the_children_of_a_rolled_back_run_are_loaded_again_by_the_next_run(org, clinic):
    load(org, clinic, run_id="run1")
    _rollback(org, clinic, "run1", ["Notes", "Attachments"])
    assert _children(org)[:2] == (Counter(), Counter())
    load(org, clinic, run_id="run2")
    titles, names, _ = _children(org)
    assert sum(titles.values()) == 12 and set(titles.values()) == {1}
    assert set(names.values()) == {1} and {f"doc-d{i}.txt" for i in range(1, 6)} <= set(names)
    assert _operations(clinic, "run2", "Notes") == {"done:insert": 12}
    assert _operations(clinic, "run2", "Attachments") == {"done:insert": 5}


def test_children_journaled_for_another_org_are_loaded_into_this_one(org, clinic, tmp_path):
    """A work folder's journal also holds the sample run, loaded into the sandbox org."""
    with prepared_org(tmp_path / "sandbox") as sandbox:
        load(sandbox, clinic, run_id="sample")
    load(org, clinic, run_id="cutover")
    titles, names, _ = _children(org)
    assert sum(titles.values()) == 12 and set(titles.values()) == {1}
    assert set(names.values()) == {1} and {f"doc-d{i}.txt" for i in range(1, 6)} <= set(names)
    assert _operations(clinic, "cutover", "Notes") == {"done:insert": 12}
    assert _operations(clinic, "cutover", "Attachments") == {"done:insert": 5}


class Died(Exception):
    pass


def _dies_after_sending_children(point: str) -> None:
    """Every note and attachment call reaches Zoho, then the run dies before journaling it."""
    if point == "after_call" and threading.current_thread().name.startswith(("load-notes", "load-attachments")):
        raise Died(point)


def test_children_a_dead_run_left_in_flight_are_not_sent_again_by_a_new_run(org, clinic):
    audit = AuditLog(clinic.journal, "run1")
    with org.client(on_call=audit) as client, pytest.raises(RuntimeError):
        Loader(clinic.plan, client, run_id="run1", root=clinic.journal, source=TableSource(clinic.warehouse),
               settings=settings_for(clinic), checkpoint=_dies_after_sending_children).run()
    audit.close()
    assert _operations(clinic, "run1", "Notes") == {"sent:insert": 12}
    assert _operations(clinic, "run1", "Attachments") == {"sent:insert": 5}
    titles, names, _ = _children(org)
    load(org, clinic, run_id="run2")
    assert _children(org)[:2] == (titles, names)
    assert sum(titles.values()) == 12 and set(names.values()) == {1} and len(names) >= 5
    assert _operations(clinic, "run2", "Notes") == {"done:unchanged": 12}
    assert _operations(clinic, "run2", "Attachments") == {"done:unchanged": 5}


def _validate(org, clinic, run_id: str, out):
    with org.client() as client:
        return validate_run(run_id, client, warehouse=clinic.warehouse, journal_root=clinic.journal,
                            reports_dir=out, seed=1)


def test_validation_fails_naming_a_note_or_attachment_zoho_holds_twice(org, clinic, tmp_path):
    load(org, clinic, run_id="run1")
    load(org, clinic, run_id="run2")
    assert not any(p.startswith("duplicates") for p in _validate(org, clinic, "run2", tmp_path).problems)
    # plant, through the API, a second note with the same title and a second upload of a document
    with org.client() as c:
        note = next(n for n in c.iter_records("Notes", ["Note_Title", "Parent_Id"]) if n["Note_Title"] == NOTE3)
        c.add_notes([{"Note_Title": NOTE3, "Note_Content": "copy",
                      "Parent_Id": {"module": {"api_name": "Contacts"}, "id": note["Parent_Id"]["id"]}}])
        contact = next(r["id"] for r in c.iter_records("Contacts", ["Clinic_Patient_Id"])
                       if r["Clinic_Patient_Id"] == "p2")  # d1's patient
        assert c.upload_attachment("Contacts", contact, clinic.files / "doc-d1.txt", file_name="doc-d1.txt").ok
    result = _validate(org, clinic, "run2", tmp_path)
    assert any(p.startswith("duplicates in Zoho: 2 source record(s)") and "Notes n3" in p and "Attachments d1" in p
               for p in result.problems)
    assert not result.ok
    assert {(d.module, d.key, d.copies) for d in result.duplicates} == {("Notes", "n3", 2), ("Attachments", "d1", 2)}
    # one page of notes, one of each record module's external ids, one list per parent of a document
    summary = json.loads((tmp_path / "reconciliation.json").read_text())["summary"]
    assert summary["duplicates"]["credits"] == summary["duplicates"]["calls"] == 1 + 4 + 4
    read = summary["duplicates"]["read"]
    assert {k: read[k] for k in ("Accounts", "Contacts", "Notes", "attachment lists")} == {
        "Accounts": 2, "Contacts": 30, "Notes": 13, "attachment lists": 4}
