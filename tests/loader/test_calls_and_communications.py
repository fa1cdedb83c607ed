"""The communication log into Zoho over real HTTP: phone calls as Calls through the record API (at
their original start, with Zoho's "mm:ss" duration, on the patient's Contact by Who_Id or Lead by
What_Id), e-mails, SMS, letters and portal messages in the custom module Communications looked up
from the Contact or Lead. The org's schema comes from the design (target_model.yml) through
prepare-schema's own plan; the plan from the models' meta in _zoho__models.yml."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from clinic2zoho.zoho import facts
from clinic2zoho.loader.estimate import PlanLimits, estimate
from clinic2zoho.loader.journal import AuditLog, JournalReader
from clinic2zoho.loader.plan import LoadPlan, plan_from_manifest
from clinic2zoho.loader.rollback import Rollback
from clinic2zoho.mapping.catalogue import load_catalogue
from clinic2zoho.mapping.propose import Proposer
from clinic2zoho.mapping.schema import apply_plan, build_plan
from clinic2zoho.sample.selection import select_sample
from clinic2zoho.zoho_server.process import ZohoServerProcess

from tests.loader.conftest import PROVIDERS, ROOT, Clinic, Org, load

MODELS_YML = ROOT / "dbt_project" / "models" / "zoho" / "_zoho__models.yml"
MODELS = ("zoho_accounts", "zoho_contacts", "zoho_leads", "zoho_calls", "zoho_communications")
ADAMS, BAKER = (p["email"] for p in PROVIDERS)

# (id, patient, module, type, start, duration, result, owner); CM5's duration is not Zoho's form,
# CM6's patient was never loaded
CALLS = [
    ("CM1", "p1", "Contacts", "Outbound", "2024-03-04T09:15:00-05:00", "02:05", "Answered", ADAMS),
    ("CM2", "p1", "Contacts", "Inbound", "2023-11-20T16:40:00-05:00", "00:47", "Voicemail", BAKER),
    ("CM3", "p2", "Contacts", "Missed", "2024-01-08T08:05:00-05:00", "00:00", "No Answer", None),
    ("CM4", "l1", "Leads", "Inbound", "2024-07-15T14:30:00-04:00", "75:30", "Answered", ADAMS),
    ("CM5", "p3", "Contacts", "Outbound", "2024-02-02T10:00:00-05:00", "2 min", "Answered", ADAMS),
    ("CM6", "p9", "Contacts", "Outbound", "2024-02-03T10:00:00-05:00", "01:00", "Answered", ADAMS),
    ("CM7", "p1", "Contacts", "Outbound", "2024-07-01T12:00:00-04:00", "10:00", "Answered", BAKER),
]
# (id, channel, direction, sent at, subject, outcome, contact, lead, owner)
MESSAGES = [
    ("CM10", "Email", "Outbound", "2024-02-10T11:00:00-05:00", "Your visit summary", "Delivered", "p1", None, ADAMS),
    ("CM11", "SMS", "Inbound", "2024-03-03T18:22:00-05:00", "Reply", "Delivered", "p1", None, None),
    ("CM12", "Letter", "Outbound", "2022-06-01T09:00:00-04:00", "Annual recall letter", "Delivered", "p1", None, BAKER),
    ("CM13", "Email", "Outbound", "2024-07-16T08:30:00-04:00", "Intake forms", "Delivered", None, "l1", ADAMS),
    ("CM14", "Email", "Outbound", "2023-05-05T10:10:00-04:00", "Statement available", "Bounced", "p2", None, ADAMS),
    ("CM15", "Portal", "Inbound", "2024-03-04T09:00:00-05:00", "Portal message", "Read", "p1", None, None),
]


def _plan_from_meta(tmp_path: Path) -> LoadPlan:
    """The load plan dbt's manifest gives these models: their meta as _zoho__models.yml declares it."""
    import json

    meta = {m["name"]: m.get("config", {}) for m in yaml.safe_load(MODELS_YML.read_text())["models"]}
    nodes = {f"model.clinic.{name}": {"resource_type": "model", "name": name, "schema": "zoho", "config": meta[name]}
             for name in MODELS}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"nodes": nodes}))
    return plan_from_manifest(path)


def _prepare_schema(client, warehouse: Path) -> None:
    """prepare-schema's plan for the design's modules these tables load (target_model.yml)."""
    catalogue = load_catalogue(client)
    modules = []
    for name in ("Accounts", "Contacts", "Leads", "Communications", "Calls"):
        m = catalogue.modules[name]
        item = {"api_name": name, "kind": m.kind, "singular_label": m.singular_label, "plural_label": m.plural_label,
                "planned_fields": [Proposer._planned(f) for f in m.fields.values() if f.always]}
        modules.append(item)
    plan = build_plan([{"format": "generic", "modules": modules, "entities": []}], client)
    apply_plan(plan, client, warehouse, "schema-test", log=lambda *_: None)


def _build_tables(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE SCHEMA IF NOT EXISTS zoho")
    con.execute("CREATE OR REPLACE TABLE zoho.zoho_accounts AS SELECT 'c1' AS Clinic_Account_Id, 'Riverside Clinic' AS Account_Name")
    con.execute("""CREATE OR REPLACE TABLE zoho.zoho_contacts AS SELECT 'p' || i AS Clinic_Patient_Id, 'Test' AS First_Name,
                   'Patient' || i AS Last_Name, 'c1' AS Account_Name FROM range(1, 5) r(i)""")
    # Company: Zoho's standard Leads layout makes it mandatory (the mapping's confirmed rule fills it)
    con.execute("""CREATE OR REPLACE TABLE zoho.zoho_leads AS SELECT 'l' || i AS Clinic_Patient_Id, 'Lead' || i AS Last_Name,
                   'Individual (patient)' AS Company FROM range(1, 3) r(i)""")
    con.execute("""CREATE OR REPLACE TABLE zoho.zoho_calls (Clinic_Communication_Id VARCHAR, Subject VARCHAR,
                   Call_Type VARCHAR, Call_Start_Time VARCHAR, Call_Duration VARCHAR, Call_Result VARCHAR,
                   Description VARCHAR, Who_Id VARCHAR, Parent_Module VARCHAR, Owner VARCHAR)""")
    con.executemany("INSERT INTO zoho.zoho_calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [[i, f"{t} call", t, start, dur, res, f"Call {i}", who, mod, owner]
                     for i, who, mod, t, start, dur, res, owner in CALLS])
    con.execute("""CREATE OR REPLACE TABLE zoho.zoho_communications (Clinic_Communication_Id VARCHAR, Name VARCHAR,
                   Channel VARCHAR, Direction VARCHAR, Sent_At VARCHAR, Subject VARCHAR, Body VARCHAR,
                   Outcome VARCHAR, Contact VARCHAR, Lead VARCHAR, Owner VARCHAR)""")
    con.executemany("INSERT INTO zoho.zoho_communications VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [[i, f"{ch} {d.lower()} {sent[:10]}", ch, d, sent, subj, f"Text of {i}", out, contact, lead, owner]
                     for i, ch, d, sent, subj, out, contact, lead, owner in MESSAGES])
    con.close()


@pytest.fixture
def plan(tmp_path) -> LoadPlan:
    return _plan_from_meta(tmp_path)


@pytest.fixture
def setup(tmp_path, work_home, plan):
    (tmp_path / "zoho").mkdir()
    clinic = Clinic(work_home / "warehouse.duckdb", work_home / "journal", work_home / "files", plan)
    clinic.files.mkdir()
    _build_tables(clinic.warehouse)
    with ZohoServerProcess(users=PROVIDERS, workdir=tmp_path / "zoho") as server:
        org = Org(server)
        with org.client() as c:
            _prepare_schema(c, clinic.warehouse)
        yield org, clinic


def _ids(org: Org, module: str) -> dict[str, str]:
    """Zoho id -> clinic key."""
    return {r["id"]: r["Clinic_Patient_Id"] if "Clinic_Patient_Id" in r else r["Clinic_Communication_Id"]
            for r in org.records(module, ["Clinic_Patient_Id" if module in ("Contacts", "Leads") else "Clinic_Communication_Id"])}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_plan_loads_calls_and_communications_after_contacts_and_leads_calls_by_record_calls(plan):
    order = plan.order()
    for module in ("Calls", "Communications"):
        assert order.index(module) > order.index("Contacts") and order.index(module) > order.index("Leads")
    calls, messages = plan.spec("Calls"), plan.spec("Communications")
    assert not calls.bulk_allowed and calls.parent_column == "Who_Id" and calls.parent_modules == ("Contacts", "Leads")
    assert messages.bulk_allowed and messages.lookups == {"Contact": "Contacts", "Lead": "Leads"}


def test_calls_land_with_their_original_start_duration_owner_and_patient(setup):
    org, clinic = setup
    result = load(org, clinic)
    assert result.pending == 0
    contacts, leads = _ids(org, "Contacts"), _ids(org, "Leads")
    users = {u["id"]: u["email"] for u in org.client().users()}
    fields = ["Clinic_Communication_Id", "Call_Type", "Call_Start_Time", "Call_Duration", "Call_Duration_in_seconds",
              "Call_Result", "Who_Id", "What_Id", "Owner"]
    got = {r["Clinic_Communication_Id"]: r for r in org.records("Calls", fields)}
    with JournalReader(clinic.journal) as q:
        rejects = dict(((k, (c, f)) for k, c, f in q.sql(
            "SELECT source_key, code, field FROM load_rejects WHERE module = 'Calls'")))
    assert rejects == {"CM5": ("INVALID_DATA", "Call_Duration"), "CM6": ("PARENT_UNRESOLVED", "Who_Id")}
    loaded = [c for c in CALLS if c[0] not in rejects]
    assert set(got) == {c[0] for c in loaded}
    for key, who, module, call_type, start, duration, res, owner in loaded:
        rec = got[key]
        assert rec["Call_Type"] == call_type and rec["Call_Result"] == res
        assert _instant(rec["Call_Start_Time"]) == _instant(start)  # the original instant, not the load's
        assert rec["Call_Duration"] == duration
        minutes, seconds = duration.split(":")
        assert rec["Call_Duration_in_seconds"] == int(minutes) * 60 + int(seconds)
        if module == "Contacts":
            assert contacts[rec["Who_Id"]["id"]] == who and rec.get("What_Id") is None
        else:  # a Lead: Zoho's What_Id with $se_module, Who_Id being Contacts only
            assert rec.get("Who_Id") is None and rec["$se_module"] == "Leads" and leads[rec["What_Id"]["id"]] == who
        if owner:
            assert users[rec["Owner"]["id"]] == owner


def test_communications_land_with_their_contact_or_lead(setup):
    org, clinic = setup
    load(org, clinic)
    contacts, leads = _ids(org, "Contacts"), _ids(org, "Leads")
    got = {r["Clinic_Communication_Id"]: r for r in org.records(
        "Communications", ["Clinic_Communication_Id", "Channel", "Direction", "Sent_At", "Outcome", "Body", "Contact", "Lead"])}
    assert set(got) == {m[0] for m in MESSAGES}
    for key, channel, direction, sent, _, outcome, contact, lead, _ in MESSAGES:
        rec = got[key]
        assert (rec["Channel"], rec["Direction"], rec["Outcome"]) == (channel, direction, outcome)
        assert _instant(rec["Sent_At"]) == _instant(sent) and rec["Body"] == f"Text of {key}"
        assert (contacts[rec["Contact"]["id"]] if rec.get("Contact") else None) == contact
        assert (leads[rec["Lead"]["id"]] if rec.get("Lead") else None) == lead


def test_an_admin_reads_a_contacts_calls_and_messages_in_time_order(setup):
    org, clinic = setup
    load(org, clinic)
    p1 = next(zid for zid, key in _ids(org, "Contacts").items() if key == "p1")
    with org.client() as c:
        calls = c.related_records("Contacts", p1, "Calls", ["Clinic_Communication_Id", "Subject", "Call_Start_Time"])
        messages = c.related_records("Contacts", p1, "Communications", ["Clinic_Communication_Id", "Subject", "Sent_At"])
        lead_id = next(zid for zid, key in _ids(org, "Leads").items() if key == "l1")
        lead_calls = c.related_records("Leads", lead_id, "Calls", ["Clinic_Communication_Id"])
    history = sorted([(_instant(r["Call_Start_Time"]), r["Clinic_Communication_Id"]) for r in calls]
                     + [(_instant(r["Sent_At"]), r["Clinic_Communication_Id"]) for r in messages])
    expected = sorted([(_instant(c[4]), c[0]) for c in CALLS if c[1] == "p1"]
                      + [(_instant(m[3]), m[0]) for m in MESSAGES if m[6] == "p1"])
    assert history == expected  # every call and message of p1, each at its original time
    assert [k for _, k in history][:2] == ["CM12", "CM2"]  # the 2022 letter first, then the 2023 voicemail
    assert [r["Clinic_Communication_Id"] for r in lead_calls] == ["CM4"]


def test_a_rerun_creates_no_duplicates_and_updates_in_place(setup):
    org, clinic = setup
    load(org, clinic, run_id="run1")
    first = {m: sorted(_ids(org, m).items()) for m in ("Calls", "Communications")}
    clinic.sql("UPDATE zoho.zoho_calls SET Call_Duration = '02:10' WHERE Clinic_Communication_Id = 'CM1'")
    load(org, clinic, run_id="run2")
    for module in ("Calls", "Communications"):
        assert sorted(_ids(org, module).items()) == first[module]  # same records, same ids
    with JournalReader(clinic.journal, runs=["run2"]) as q:
        ops = dict(q.sql("SELECT module, list(DISTINCT operation) FROM load_journal WHERE status = 'done'"
                         " AND module IN ('Calls', 'Communications') GROUP BY 1"))
    assert ops == {"Calls": ["update"], "Communications": ["update"]}
    assert {r["Clinic_Communication_Id"]: r["Call_Duration"] for r in org.records(
        "Calls", ["Clinic_Communication_Id", "Call_Duration"])}["CM1"] == "02:10"


def test_rollback_removes_the_calls_and_communications(setup):
    org, clinic = setup
    before = org.data_hash()
    load(org, clinic)
    audit = AuditLog(clinic.journal, "run1")
    with org.client(on_call=audit) as client:
        result = Rollback(client, "run1", clinic.journal).run()
    audit.close()
    deleted = {r["module"]: r["deleted"] for r in result}
    assert deleted["Calls"] == len(CALLS) - 2 and deleted["Communications"] == len(MESSAGES)
    order = [r["module"] for r in result]
    assert order.index("Calls") < order.index("Contacts") and order.index("Communications") < order.index("Leads")
    assert org.records("Calls", ["Clinic_Communication_Id"]) == []
    assert org.records("Communications", ["Clinic_Communication_Id"]) == []
    assert org.data_hash() == before


def test_the_estimate_counts_their_credits_as_the_load_spends_them(setup, plan):
    org, clinic = setup
    counts = clinic.counts()
    est = {m.module: m for m in estimate(plan, counts, PlanLimits()).modules}
    load(org, clinic)
    with JournalReader(clinic.journal) as q:
        spent = dict(q.sql("SELECT module, sum(credits) FROM audit_log WHERE method = 'POST' AND module IN"
                           " ('Calls', 'Communications') GROUP BY 1"))
    for module in ("Calls", "Communications"):
        assert est[module].rows == counts[module]
        assert est[module].write_credits == spent[module] == math.ceil(counts[module] / facts.RECORDS_PER_CALL)
    # many calls still go by record calls (Bulk Write refuses Calls); many messages by bulk jobs
    big = {m.module: m for m in estimate(plan, {**counts, "Calls": 60_000, "Communications": 60_000}, PlanLimits()).modules}
    assert big["Calls"].bulk_jobs == 0 and big["Calls"].record_calls == 600 and big["Calls"].write_credits == 6_000
    assert big["Communications"].bulk_jobs == 3 and big["Communications"].write_credits < 6_000


def test_the_sample_takes_the_sampled_patients_calls_and_messages(setup, plan):
    _, clinic = setup
    selection = select_sample(clinic.warehouse, plan=plan, size=5, seed=3)
    con = duckdb.connect(str(clinic.warehouse))
    try:
        sampled = {r[0] for r in con.execute("SELECT Clinic_Patient_Id FROM ops.sample_patients").fetchall()}
        calls = con.execute("SELECT Clinic_Communication_Id, Who_Id FROM sample.zoho_calls").fetchall()
        messages = con.execute("SELECT Clinic_Communication_Id, coalesce(Contact, Lead) FROM sample.zoho_communications").fetchall()
    finally:
        con.close()
    assert len(sampled) == 5 and calls and messages
    assert sorted(calls) == sorted((c[0], c[1]) for c in CALLS if c[1] in sampled)
    assert sorted(messages) == sorted((m[0], m[6] or m[7]) for m in MESSAGES if (m[6] or m[7]) in sampled)
    assert selection.tables["Calls"] == len(calls) and selection.plan.spec("Calls").table == "sample.zoho_calls"


def test_validation_counts_them_checks_each_calls_patient_and_finds_one_moved(setup):
    from clinic2zoho.reports.field_check import check_records
    from clinic2zoho.reports.integrity import check_integrity
    from clinic2zoho.reports.reconciliation import module_counts
    from clinic2zoho.reports.run_context import RunContext

    org, clinic = setup
    load(org, clinic)
    ctx = RunContext.open("run1", clinic.warehouse, clinic.journal)
    counts = {m.module: m for m in module_counts(ctx)}
    assert (counts["Calls"].table_rows, counts["Calls"].loaded, counts["Calls"].rejected) == (len(CALLS), len(CALLS) - 2, 2)
    assert (counts["Communications"].loaded, counts["Communications"].rejected) == (len(MESSAGES), 0)
    with org.client() as client:
        problems, checked = check_integrity(ctx, client)
    assert problems == []
    assert checked["Calls"] == 2 * (len(CALLS) - 2)  # each loaded call: its patient and its owner
    assert checked["Communications"] == 2 * len(MESSAGES)  # its Contact or Lead, and its owner

    contacts = {key: zid for zid, key in _ids(org, "Contacts").items()}
    cm1 = next(zid for zid, key in _ids(org, "Calls").items() if key == "CM1")
    with org.client() as client:  # someone moves a call onto another patient in Zoho
        assert client.update("Calls", [{"id": cm1, "Who_Id": {"id": contacts["p2"]}}])[0].ok
    ctx = RunContext.open("run1", clinic.warehouse, clinic.journal)
    with org.client() as client:
        problems, _ = check_integrity(ctx, client)
        spec = ctx.plan.spec("Calls")
        calls = check_records(ctx, client, spec, ["CM1", "CM2", "CM4"], ctx.expected_rows(spec))
        spec = ctx.plan.spec("Communications")
        messages = check_records(ctx, client, spec, [m[0] for m in MESSAGES], ctx.expected_rows(spec))
    assert [(p.module, p.key, p.relation) for p in problems] == [("Calls", "CM1", "Who_Id")]
    assert "p2" in problems[0].problem
    patient = {c.key: c.status for c in calls if c.field == "Who_Id"}
    assert patient == {"CM1": "mismatch", "CM2": "match", "CM4": "match"}  # CM4: a Lead's call, by What_Id
    assert {(c.field, c.status) for c in calls if c.key == "CM2"} >= {
        ("Call_Start_Time", "match"), ("Call_Duration", "match"), ("Owner", "match")}
    assert {c.status for c in messages} == {"match"}
    assert {c.field for c in messages} >= {"Contact", "Lead", "Sent_At", "Channel", "Body", "Owner"}
