"""A loader process killed at any point and started again creates no duplicate and loses no row.

The child dies through os._exit at a named checkpoint (no cleanup, like SIGKILL): between the
journal's intent and the call, between the call and the outcome, after a bulk upload, after a
job was created (job id journaled, not yet polled), after the job finished."""

from __future__ import annotations

import pytest

from clinic2zoho.loader.journal import JournalReader

from tests.loader.conftest import assert_no_duplicates_and_all_accounted, load, load_in_subprocess

EXPECTED = {"Accounts": 2, "Contacts": 30, "Events": 18, "Insurance": 14, "Notes": 12, "Attachments": 5}


@pytest.mark.parametrize("crash_at", [
    "after_intent:1",  # Accounts journaled, nothing sent
    "after_call:2",  # Contacts sent and answered, outcome not journaled
    "after_outcome:4",  # mid-run, between modules
    "after_call:6",  # during the notes/attachments group
    "after_intent:9",
])
def test_record_path_resumes_after_a_crash(org, clinic, crash_at):
    assert load_in_subprocess(org, clinic, "run1", crash_at=crash_at) == 137
    load(org, clinic, run_id="run1")
    assert assert_no_duplicates_and_all_accounted(org, clinic) == EXPECTED


@pytest.mark.parametrize("crash_at", ["after_upload:2", "after_job_created:2", "after_job_done:2"])
def test_bulk_path_resumes_after_a_crash(org, clinic, crash_at):
    assert load_in_subprocess(org, clinic, "run1", crash_at=crash_at, force_path="bulk") == 137
    load(org, clinic, run_id="run1", force_path="bulk")
    assert assert_no_duplicates_and_all_accounted(org, clinic) == EXPECTED
    if crash_at.startswith("after_job"):
        with JournalReader(clinic.journal) as q:  # the job journaled before polling was re-attached
            assert q.sql("SELECT count(*) FROM bulk_jobs WHERE module = 'Contacts'") == [(1,)]


def test_a_second_crash_during_the_resume_is_survived_too(org, clinic):
    assert load_in_subprocess(org, clinic, "run1", crash_at="after_call:2") == 137
    assert load_in_subprocess(org, clinic, "run1", crash_at="after_intent:3") == 137
    assert load_in_subprocess(org, clinic, "run1") == 0
    assert assert_no_duplicates_and_all_accounted(org, clinic) == EXPECTED


def test_a_crash_while_journaling_a_reject_leaves_it_in_the_rejects_list(org, clinic, monkeypatch):
    """A row journaled `rejected` is final: resume never rejects it again. So its load_rejects row
    (what the reports list) must be written in the same transaction, or a crash between the two
    writes leaves a rejected row listed nowhere."""
    from clinic2zoho.loader.journal import JournalSegment

    apply, tripped = JournalSegment._apply, []

    def dies_on_the_rejects_list(self, rows, statement):
        if "INSERT INTO load_rejects" in statement and rows and not tripped:
            tripped.append(self.module)
            raise SystemExit("killed while journaling a reject")  # as if the process ended here
        return apply(self, rows, statement)

    monkeypatch.setattr(JournalSegment, "_apply", dies_on_the_rejects_list)
    with pytest.raises(SystemExit):
        load(org, clinic, run_id="run1")
    assert tripped
    monkeypatch.setattr(JournalSegment, "_apply", apply)
    load(org, clinic, run_id="run1")
    assert assert_no_duplicates_and_all_accounted(org, clinic) == EXPECTED
    with JournalReader(clinic.journal, runs=["run1"]) as q:
        unlisted = q.sql("""SELECT j.module, j.source_key FROM load_journal j
                            LEFT JOIN load_rejects r USING (run_id, module, source_key)
                            WHERE j.status = 'rejected' AND r.source_key IS NULL""")
    assert unlisted == []


def test_a_crash_point_can_count_the_passes_of_one_module(monkeypatch):
    """`point@Module:n` (what bench/crash_resume.py uses to aim at notes or attachments) counts only
    the passes made for that module's load."""
    from clinic2zoho.loader import checkpoints
    from clinic2zoho.loader.journal import audit_scope

    exits: list[int] = []
    monkeypatch.setattr(checkpoints.os, "_exit", exits.append)
    crash = checkpoints.EnvCrash("after_call@Notes:2")
    with audit_scope("Contacts"):
        crash("after_call")
        crash("after_call")
    with audit_scope("Notes"):
        crash("after_intent")
        crash("after_call")
        assert exits == []
        crash("after_call")
    assert exits == [137]
    with pytest.raises(ValueError):
        checkpoints.EnvCrash("after_lunch@Notes:1")
