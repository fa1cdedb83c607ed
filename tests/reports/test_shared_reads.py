"""Validation reads each Zoho module once for all its checks, and the warehouse and the journal
once per run: the same report as when every check reads on its own, for fewer calls."""

from __future__ import annotations

from collections import Counter

import pytest

from clinic2zoho.loader import journal
from clinic2zoho.reports import validate_run
from clinic2zoho.reports.org_lists import OrgLists, wide_reads
from clinic2zoho.reports.run_context import RunContext
from clinic2zoho.zoho.facts import FIELDS_PER_LIST
from tests.reports.scenario import reports_scenario  # noqa: F401  (session fixture)

pytestmark = pytest.mark.xdist_group("reports")


def test_wide_reads_merge_the_checks_fields_while_they_fit_one_list_call():
    many = [f"F{i}" for i in range(FIELDS_PER_LIST)]
    wide = wide_reads({"Contacts": ["Clinic_Patient_Id"], "Accounts": ["id"]},
                      {"Contacts": ["Clinic_Patient_Id", "Owner", "id"], "Events": ["Clinic_Appointment_Id"]},
                      {"Contacts": many})  # would pass the limit: read on its own
    assert wide == {"Contacts": ("Clinic_Patient_Id", "Owner"), "Events": ("Clinic_Appointment_Id",)}


class _Client:
    def __init__(self):
        self.reads: list[tuple[str, tuple[str, ...]]] = []

    def iter_records(self, module, fields):
        self.reads.append((module, tuple(fields)))
        return iter([{"id": "1", **{f: f"{f}-value" for f in fields}}])


def test_a_read_of_some_of_a_wide_reads_fields_is_served_by_it():
    client = _Client()
    lists = OrgLists(client, wide={"Contacts": ("Clinic_Patient_Id", "Owner")})
    assert lists.records("Contacts", ["Clinic_Patient_Id"]) == lists.records("Contacts", ["id", "Owner"])
    assert lists.records("Contacts", ["Email"])[0] == {"id": "1", "Email": "Email-value"}  # not in it: its own read
    assert client.reads == [("Contacts", ("Clinic_Patient_Id", "Owner")), ("Contacts", ("Email",))]
    assert lists.read == {"Contacts": 1}


def _report(s, tmp_path, name):
    with s.client() as client:
        s.server.calls(reset=True)
        result = validate_run(s.run_id, client, warehouse=s.warehouse, journal_root=s.journal, manifest=s.manifest,
                              reports_dir=tmp_path / name, seed=3)
    report = result.to_dict()
    report["summary"].pop("generated_at")
    return report, Counter((c["op"], c["module"]) for c in s.server.calls()["calls"])


def test_shared_reads_give_the_report_of_separate_reads_for_fewer_calls(reports_scenario, tmp_path, monkeypatch):
    s = reports_scenario
    shared, shared_calls = _report(s, tmp_path, "shared")
    # every check reading the modules on its own, as before the reads were shared
    monkeypatch.setattr("clinic2zoho.reports.validate.wide_reads", lambda *needs: {})
    separate, separate_calls = _report(s, tmp_path, "separate")
    assert shared == separate
    assert shared["summary"]["spot_check"]["fields"] > 100 and shared["summary"]["status"] == "passed"
    assert sum(shared_calls.values()) < sum(separate_calls.values())
    listed = {m for op, m in separate_calls if op == "records.list"}
    assert all(shared_calls[("records.list", m)] <= separate_calls[("records.list", m)] for m in listed)
    # the modules several checks read are listed once: their pages, not a multiple of them
    with s.client() as client:
        for module in ("Contacts", "Events"):
            pages = -(-len(list(client.iter_records(module, ["id"]))) // 200)
            assert shared_calls[("records.list", module)] == pages < separate_calls[("records.list", module)]


def test_the_runs_journal_is_read_by_one_reader_for_every_module(reports_scenario, monkeypatch):
    s = reports_scenario
    opened = []
    real = journal.JournalReader

    def counting(*args, **kwargs):
        opened.append(kwargs.get("modules"))
        return real(*args, **kwargs)

    monkeypatch.setattr(journal, "JournalReader", counting)
    ctx = RunContext.open(s.run_id, s.warehouse, s.journal, s.manifest)
    rows = {m: ctx.journal_rows(m) for m in ctx.plan.order()}
    assert len(opened) == 1 and set(opened[0]) == set(ctx.plan.order())
    with real(s.journal, runs=[s.run_id]) as reader:
        for module, by_key in rows.items():
            keys = [r[0] for r in reader.sql("SELECT source_key FROM load_journal WHERE run_id = ? AND module = ?",
                                             [s.run_id, module])]
            assert list(by_key) == list(dict.fromkeys(keys)), module


def test_expected_rows_are_read_once_per_table(reports_scenario):
    s = reports_scenario
    ctx = RunContext.open(s.run_id, s.warehouse, s.journal, s.manifest)
    spec = ctx.plan.spec("Contacts")
    with ctx.held():
        first = ctx.expected_rows(spec)
        assert ctx.expected_rows(spec) is first and len(first) == ctx.count_rows(spec)
