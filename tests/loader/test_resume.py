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
