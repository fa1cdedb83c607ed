"""Faults injected by the local server: every run ends with each row loaded or rejected with a
reason (a transient failure is never a reason: a row still failing is left pending, and a resume
with the same run id loads it), and no duplicate."""

from __future__ import annotations

import pytest

from clinic2zoho.loader.journal import JournalReader

from tests.loader.conftest import assert_no_duplicates_and_all_accounted, load


@pytest.mark.parametrize("faults", [
    {"error_5xx_rate": 0.3},
    {"error_5xx_after_write_rate": 0.3},  # the write lands, the answer says 500
    {"drop_rate": 0.3},  # the connection drops after the server acted
    {"expire_token_rate": 0.3},
    {"row_fail_rate": 0.2},  # single rows fail with INTERNAL_ERROR
], ids=lambda f: next(iter(f)))
def test_each_fault_ends_with_every_row_loaded_or_rejected(org, clinic, faults):
    org.server.settings(faults={**faults, "seed": 11})
    load(org, clinic)
    org.server.settings(faults={k: 0.0 for k in faults})
    load(org, clinic)  # resumes the rows left pending
    done = assert_no_duplicates_and_all_accounted(org, clinic)
    with JournalReader(clinic.journal) as q:
        reasons = q.sql("SELECT source_key, code FROM load_rejects WHERE code IS NULL OR code = ''"
                        " OR code IN ('INTERNAL_ERROR', 'CANNOT_PROCESS', 'PARENT_PENDING')")
        rejected = q.sql("SELECT count(*) FROM load_rejects")[0][0]
    assert reasons == []
    assert sum(done.values()) + rejected == 81 + 3 + 1  # 81 loadable rows, 3 bad rows, d6 with no link address


def test_a_429_storm_under_a_tight_per_minute_budget(org, clinic):
    org.server.advance_clock(61)  # the fixture's custom module (500 credits) leaves this minute's window
    org.server.settings(per_minute_credits=40)
    load(org, clinic, modules=["Accounts", "Contacts", "Insurance"])
    with JournalReader(clinic.journal) as q:
        assert q.sql("SELECT status, count(*) FROM load_journal GROUP BY 1 ORDER BY 1") == [("done", 46), ("rejected", 1)]
