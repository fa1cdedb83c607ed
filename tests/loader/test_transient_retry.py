"""Transient failures never reject a row: bulk rows Zoho could not process (CANNOT_PROCESS) and
failed jobs go to a new job, then record calls; a row still failing after its tries stays pending,
and so do the rows pointing to it, until a resume with the same run id loads them."""

from __future__ import annotations

from clinic2zoho.loader.journal import JournalReader
from clinic2zoho.loader.row_errors import bulk_row_transient

from tests.loader.conftest import assert_no_duplicates_and_all_accounted, load

EXPECTED = {"Accounts": 2, "Contacts": 30, "Events": 18, "Insurance": 14, "Notes": 12, "Attachments": 5}
MODULES = ["Accounts", "Contacts", "Events", "Insurance", "Notes"]  # documents have their own tests
TRANSIENT = ("CANNOT_PROCESS", "INTERNAL_ERROR", "JOB_FAILED", "PARENT_PENDING")


def _rejects(clinic) -> dict[str, str]:
    with JournalReader(clinic.journal) as q:
        return dict(q.sql("SELECT source_key, code FROM load_rejects"))


def test_bulk_result_codes_are_classified_from_zohos_documented_errors():
    assert bulk_row_transient("skipped", (("CANNOT_PROCESS", None),))
    assert bulk_row_transient("unprocessed", ())
    for terminal in ("MANDATORY_NOT_FOUND", "INVALID_DATA", "DUPLICATE_DATA", "NOT_APPROVED", "BLOCKED_RECORD",
                     "LIMIT_EXCEEDED", "RESOURCE_NOT_FOUND", "SOMETHING_NEW"):
        assert not bulk_row_transient("skipped", ((terminal, "Last_Name"),)), terminal
    assert not bulk_row_transient("skipped", (("CANNOT_PROCESS", None), ("MANDATORY_NOT_FOUND", "Last_Name")))


def test_rows_failing_every_try_stay_pending_with_their_dependents_and_a_resume_loads_them(org, clinic):
    org.server.settings(faults={"row_fail_rate": 1.0})  # every bulk row CANNOT_PROCESS, every record INTERNAL_ERROR
    first = load(org, clinic, modules=MODULES, force_path="bulk")
    assert {m["module"]: m["intent"] + m["sent"] for m in first.modules} == {
        "Accounts": 2, "Contacts": 30, "Events": 20, "Insurance": 14, "Notes": 12}
    assert _rejects(clinic) == {"ins4": "LOOKUP_UNRESOLVED"}  # its patient p999 is not in the export at all
    with JournalReader(clinic.journal) as q:
        assert q.sql("SELECT count(*) FROM bulk_jobs WHERE module = 'Accounts' AND status = 'applied'") == [(2,)]
        waiting = q.sql("SELECT module, count(*) FROM load_journal WHERE error_code = 'PARENT_PENDING'"
                        " GROUP BY 1 ORDER BY 1")
    assert waiting == [("Contacts", 30), ("Events", 20), ("Insurance", 14), ("Notes", 12)]

    org.server.settings(faults={"row_fail_rate": 0.0})
    load(org, clinic, modules=MODULES, force_path="bulk")  # the same run id: a resume
    done = assert_no_duplicates_and_all_accounted(org, clinic)
    assert done == {m: n for m, n in EXPECTED.items() if m in MODULES}
    assert not set(_rejects(clinic).values()) & set(TRANSIENT)


def test_injected_bulk_job_and_row_failures_end_with_every_row_loaded(org, clinic):
    org.server.settings(faults={"bulk_fail_rate": 0.3, "row_fail_rate": 0.3, "seed": 5})
    load(org, clinic, force_path="bulk")
    assert not set(_rejects(clinic).values()) & set(TRANSIENT)  # retried within the run, or left pending
    org.server.settings(faults={"bulk_fail_rate": 0.0, "row_fail_rate": 0.0})
    load(org, clinic, force_path="bulk")  # resumes whatever is still pending
    assert assert_no_duplicates_and_all_accounted(org, clinic) == EXPECTED
    assert not set(_rejects(clinic).values()) & set(TRANSIENT)
