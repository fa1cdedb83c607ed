"""The cutover DAG end to end with `dag.test()` against a local Zoho server: a small generated
export landed, quality-reported, gated, built by dbt (Cosmos), loaded in order, validated and
reported, and the delta window opened: the delta DAG then carries a new patient and an edited phone
into Zoho, and the window closes itself once its time has passed. An unconfirmed mapping, or a sample
not signed off, stops the run at the gate; a failing dbt test (the provider-email gate) fails the run and leaves every
task after the dbt group unrun."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import duckdb
import pytest

from clinic2zoho.zoho import ZohoClient, ZohoConfig
from clinic2zoho.zoho.connection import connection_json
from clinic2zoho.zoho_server.process import ZohoServerProcess
from tests.dags.scenario import (ConfirmedExport, generate, load_delta_dag, local_config, propose_and_confirm,
                                 rewrite_csv, share_manifest, sign_off_sample)
from tests.dags.scenario import load_cutover_dag as load_dag

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dag_clinic_cutover")]

PATIENTS = 120


@dataclass
class Cutover:
    base: Path
    scenario: ConfirmedExport
    server: ZohoServerProcess
    mp: pytest.MonkeyPatch

    @property
    def export(self) -> Path:
        return self.scenario.export

    @property
    def dbt(self) -> Path:
        return self.scenario.dbt

    def config(self) -> ZohoConfig:
        return local_config(self.server)

    def use_home(self, name: str, signed_off: bool = True) -> Path:
        """A work folder (warehouse, reports, journal) of its own for the next run. The warehouse
        is named too: Cosmos copies a dbt task's environment into os.environ for good (for its
        OpenLineage parsing, which a watching task's fallback still does), so after one dag.test()
        the previous run's CLINIC2ZOHO_WAREHOUSE could still be set in this process. The sample
        is signed off there unless `signed_off` is False."""
        home = self.base / name
        home.mkdir(exist_ok=True)
        self.mp.setenv("CLINIC2ZOHO_HOME", str(home))
        self.mp.setenv("CLINIC2ZOHO_WAREHOUSE", str(home / "warehouse.duckdb"))
        share_manifest(self.dbt, self.base / "propose", home)
        if signed_off:
            sign_off_sample(home, self.dbt)
        return home

    def conf(self) -> dict:
        return self.scenario.run_conf()


@pytest.fixture(scope="module")
def cutover(tmp_path_factory) -> Iterator[Cutover]:
    """A generated export, a copy of the dbt project with the mapping proposed and confirmed, and
    a local production org named by AIRFLOW_CONN_ZOHO_DEFAULT."""
    base = tmp_path_factory.mktemp("cutover")
    mp = pytest.MonkeyPatch()
    mp.delenv("CLINIC2ZOHO_WAREHOUSE", raising=False)
    mp.delenv("CLINIC2ZOHO_REPORTS", raising=False)
    scenario = generate(base, PATIENTS, seed=3)
    mp.setenv("CLINIC2ZOHO_DBT_PROJECT", str(scenario.dbt))
    (base / "zoho").mkdir()
    server = ZohoServerProcess(state=base / "zoho" / "state.sqlite", users=scenario.users,
                               workdir=base / "zoho").start()
    cutover = Cutover(base, scenario, server, mp)
    try:
        mp.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", connection_json(cutover.config()))
        home = cutover.use_home("propose")
        propose_and_confirm(scenario, home / "warehouse.duckdb", cutover.config())
        yield cutover
    finally:
        server.close()
        mp.undo()


@pytest.fixture(scope="module")
def cutover_run(cutover: Cutover):
    """One successful cutover run (the module's shared, built scenario), of a copy of the export
    the delta test edits afterwards as the clinic would."""
    home = cutover.use_home("work")
    export = shutil.copytree(cutover.export, home / "export")
    mp = pytest.MonkeyPatch()
    try:
        dag = load_dag(mp)
        run = dag.test(run_conf={**cutover.conf(), "source": str(export)})
    finally:
        mp.undo()
    return dag, run, home


def test_the_cutover_lands_gates_builds_loads_in_order_validates_and_reports(cutover, cutover_run):
    from airflow.utils.state import DagRunState, TaskInstanceState

    dag, run, home = cutover_run
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    failed = {t: s for t, s in states.items() if s != TaskInstanceState.SUCCESS}
    assert run.state == DagRunState.SUCCESS, failed
    order = ["land", "org_users", "quality_report", "mapping_gate", "prepare_schema", "mapping_ready", "estimate",
             "load_accounts", "load_contacts", "load_notes", "load_report", "validate", "reports"]
    tis = {ti.task_id: ti for ti in run.get_task_instances()}
    ends = [tis[t].end_date for t in order]
    assert ends == sorted(ends)  # the chain ran in order (dag.test runs one task at a time)
    assert tis["load_contacts"].start_date >= tis["load_accounts"].end_date  # lookups before the records using them

    reports = home / "reports"
    for name in ("data_quality.html", "reconciliation.html", "reconciliation.json", "workflow_rebuild.md",
                 "workflow_rebuild.html"):
        assert (reports / name).is_file(), name
    summary = json.loads((reports / "reconciliation.json").read_text())["summary"]
    assert summary["status"] == "passed"

    # every row of every Zoho-shaped table is in Zoho (or rejected with a reason), Contacts counted in Zoho
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    contacts = con.execute("SELECT count(*) FROM zoho.zoho_contacts").fetchone()[0]
    done = con.execute("SELECT count(*) FROM ops.load_journal WHERE module = 'Contacts' AND status = 'done'").fetchone()[0]
    rejected = con.execute("SELECT count(*) FROM ops.load_rejects WHERE module = 'Contacts'").fetchone()[0]
    con.close()
    assert contacts > 0 and done + rejected == contacts
    with ZohoClient(cutover.config()) as client:
        assert len(list(client.iter_records("Contacts", ["Clinic_Patient_Id"]))) == done

    run_id = tis["validate"].xcom_pull(task_ids="validate")["run_id"]
    load_report = json.loads((reports / f"load_{run_id}.json").read_text())
    assert load_report["predicted"]["credits"] > 0 and load_report["credits_spent"] > 0  # estimate vs actual

    # a watching task shows its model's compiled SQL (stored once, after its watch): the model's file
    # with its Jinja compiled away
    from airflow.models.renderedtifields import RenderedTaskInstanceFields

    shown = RenderedTaskInstanceFields.get_templated_fields(tis["dbt_mapping.zoho_contacts_run"])
    source = (cutover.dbt / "models" / "zoho" / "zoho_contacts.sql").read_text(encoding="utf-8")
    assert shown["model_unique_id"] == "model.clinic2zoho.zoho_contacts"
    assert source.splitlines()[0] in shown["compiled_sql"] and "{{" in source and "{{" not in shown["compiled_sql"]

    # the build's real dbt lines reached XCom for the watched models only: none for its seeds or
    # the other formats' staging models, which it built too; a model's compiled SQL rode in its
    # status, one push each (operators/dbt_watch.py)
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from cosmos.operators._watcher.state import get_compiled_sql_xcom_key, get_status_xcom_key
    from cosmos.operators.watcher import DbtConsumerWatcherSensor
    from sqlalchemy import select

    with create_session() as session:
        pushed = set(session.scalars(select(XComModel.key).where(
            XComModel.dag_id == run.dag_id, XComModel.run_id == run.run_id,
            XComModel.task_id == "dbt_mapping.dbt_producer_watcher")))
    watched = {t.model_unique_id for t in dag.tasks if isinstance(t, DbtConsumerWatcherSensor)}
    built = ({f"seed.clinic2zoho.{path.stem}" for path in (cutover.dbt / "seeds").glob("*.csv")}
             | {f"model.clinic2zoho.{path.stem}" for path in (cutover.dbt / "models" / "staging" / "fhir").glob("*.sql")})
    assert watched and built and not watched & built
    assert {get_status_xcom_key(u) for u in watched} <= pushed
    assert not {get_status_xcom_key(u) for u in built} & pushed
    assert not {get_compiled_sql_xcom_key(u) for u in watched | built} & pushed

    assert [o.uri for o in dag.get_task("land").outlets] == ["clinic2zoho://warehouse/raw"]
    assert [o.uri for o in dag.get_task("load_report").outlets] == ["clinic2zoho://zoho/loaded"]


def test_a_cleared_model_task_runs_its_model_itself_with_the_runs_vars(cutover, cutover_run):
    """Cosmos's retry path: a watching task cleared after the build (as from Airflow's UI) runs dbt
    for its own model. Its dbt vars are rendered only then (operators/dbt_watch.py): the rebuilt
    merges table must hold the pairs of the run's merges file, which only its var names."""
    import csv

    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance, clear_task_instances
    from airflow.sdk.definitions.dag import _run_task
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    dag, run, home = cutover_run
    task_id = "dbt_mapping.int_patient_merges_run"
    assert {"env", "vars"}.isdisjoint(dag.get_task(task_id).template_fields)  # not rendered to watch
    with cutover.scenario.merges.open(newline="", encoding="utf-8") as fh:
        pairs = sorted((row["duplicate_patient_id"], row["surviving_patient_id"]) for row in csv.DictReader(fh))
    assert pairs  # the scenario's confirmed merges, in the file the run's conf names
    warehouse = home / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DROP TABLE intermediate.int_patient_merges")  # only the task's own dbt run brings it back

    with create_session() as session:  # cleared, then scheduled as Airflow's scheduler does it
        ti = session.scalar(select(TaskInstance).where(
            TaskInstance.dag_id == dag.dag_id, TaskInstance.run_id == run.run_id, TaskInstance.task_id == task_id))
        clear_task_instances([ti], session, dag_run_state=False)
        session.scalar(select(DagRun).where(DagRun.run_id == run.run_id)).schedule_tis([ti], session=session)
        session.flush()
        session.refresh(ti)
    assert ti.try_number == 2
    result = _run_task(ti=ti, task=dag.get_task(task_id))

    assert result is not None and result.ti.state == TaskInstanceState.SUCCESS
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rebuilt = con.execute("SELECT duplicate_patient_id, surviving_patient_id FROM intermediate.int_patient_merges"
                              " ORDER BY 1, 2").fetchall()
    assert rebuilt == pairs


def test_the_cutover_opens_the_delta_window_and_the_delta_dag_carries_later_changes(cutover, cutover_run,
                                                                                    monkeypatch):
    """Nothing called by hand: the cutover opened the window (48 h by default); the clinic adds a
    patient with an appointment and edits a phone; the delta DAG upserts just those (the edited
    Contact in place, its before-image journaled); a run with nothing new sends nothing; once the
    window's time has passed (its clock moved forward) a run closes it and every later task skips."""
    from airflow.utils.state import DagRunState, TaskInstanceState

    from clinic2zoho.delta import current_window, get_window, window as delta_window
    from clinic2zoho.loader.journal import JournalReader

    _, run, home = cutover_run
    cutover.use_home("work")  # the cutover's warehouse and journal
    tis = {ti.task_id: ti for ti in run.get_task_instances()}
    assert tis["open_delta_window"].state == TaskInstanceState.SUCCESS
    cutover_id = tis["validate"].xcom_pull(task_ids="validate")["run_id"]
    opened = current_window()
    assert opened is not None and opened.cutover_run_id == cutover_id and opened.source == str(home / "export")
    assert opened.hours == 48 and opened.closes_at - opened.opened_at == timedelta(hours=48)
    assert tis["open_delta_window"].xcom_pull(task_ids="open_delta_window")["window_id"] == opened.window_id

    export = home / "export"
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        patient_id, appointment_id = con.execute(
            """SELECT c.Clinic_Patient_Id, e.Clinic_Appointment_Id FROM zoho.zoho_contacts c
               JOIN zoho.zoho_events e ON e.Who_Id = c.Clinic_Patient_Id WHERE c.Phone IS NOT NULL
               ORDER BY 1, 2 LIMIT 1""").fetchone()
    new_phone, new_patient, new_appointment = "+1 617 555 0142", "PT9999901", "AP99999901"
    with ZohoClient(cutover.config()) as client:
        before = client.get_by_external("Contacts", "Clinic_Patient_Id", patient_id)
        contacts_before = len(list(client.iter_records("Contacts", ["Clinic_Patient_Id"])))
        events_before = len(list(client.iter_records("Events", ["Clinic_Appointment_Id"])))
    assert before is not None and before.get("Phone") != new_phone

    def patients(rows):
        template = next(r for r in rows if r["patient_id"] == patient_id)
        for row in rows:
            if row["patient_id"] == patient_id:
                row["phone"] = new_phone
        return rows + [{**template, "patient_id": new_patient, "first_name": "Dana", "last_name": "Newcombe",
                        "birth_date": "1990-02-03", "email": "dana.newcombe@example.org", "phone": "401-555-0199",
                        "address_line": "1 Window Way"}]

    def appointments(rows):
        template = next(r for r in rows if r["appointment_id"] == appointment_id)
        return rows + [{**template, "appointment_id": new_appointment, "patient_id": new_patient}]

    rewrite_csv(export / "patients.csv", patients)
    rewrite_csv(export / "appointments.csv", appointments)

    delta = load_delta_dag(monkeypatch, CLINIC2ZOHO_DELTA_WAIT_SECONDS="5", CLINIC2ZOHO_DELTA_POKE_SECONDS="0.5")
    first = delta.test()
    states = {ti.task_id: ti.state for ti in first.get_task_instances()}
    assert first.state == DagRunState.SUCCESS, states
    assert all(s == TaskInstanceState.SUCCESS for s in states.values()), states
    # the sources came from the work folder's manifest (the project unchanged since): no `dbt parse`
    from clinic2zoho.orchestration.dbt_manifest import manifest_folder

    rebuild = next(ti for ti in first.get_task_instances() if ti.task_id == "rebuild")
    rebuilt = rebuild.xcom_pull(task_ids="rebuild")
    assert rebuilt["built"] and rebuilt["sources_from"] == str(manifest_folder() / "target" / "manifest.json")

    with ZohoClient(cutover.config()) as client:
        after = client.get_by_external("Contacts", "Clinic_Patient_Id", patient_id)
        added = client.get_by_external("Contacts", "Clinic_Patient_Id", new_patient)
        contacts = [r["Clinic_Patient_Id"] for r in client.iter_records("Contacts", ["Clinic_Patient_Id"])]
        events = [r["Clinic_Appointment_Id"] for r in client.iter_records("Events", ["Clinic_Appointment_Id"])]
        event = client.get_by_external("Events", "Clinic_Appointment_Id", new_appointment)
    assert after["id"] == before["id"] and after["Phone"] == new_phone  # updated in place
    assert added is not None and event["Who_Id"]["id"] == added["id"]
    assert len(contacts) == contacts_before + 1 and len(set(contacts)) == len(contacts)  # no duplicate
    assert len(events) == events_before + 1 and events.count(new_appointment) == 1

    window = get_window(opened.window_id)
    assert window.is_open and window.runs == 1 and window.last_run_id
    with JournalReader(home / "journal", runs=[window.last_run_id]) as reader:
        rows = reader.dicts("SELECT module, source_key, operation, status, before_image FROM load_journal")
    sent = {(r["module"], r["source_key"]): r for r in rows}
    assert set(sent) == {("Contacts", patient_id), ("Contacts", new_patient), ("Events", new_appointment)}
    assert all(r["status"] == "done" for r in rows)
    assert sent[("Contacts", patient_id)]["operation"] == "update"
    assert json.loads(sent[("Contacts", patient_id)]["before_image"])["Phone"] == before.get("Phone")

    # nothing new since: the sensor finds nothing, the run skips and Zoho is not called
    calls = cutover.server.calls()["total"]
    quiet = delta.test()
    states = {ti.task_id: ti.state for ti in quiet.get_task_instances()}
    assert states["wait_for_changes"] == TaskInstanceState.SKIPPED and states["land"] == TaskInstanceState.SKIPPED
    assert cutover.server.calls()["total"] == calls and get_window(opened.window_id).runs == 1

    # the window's 48 h pass: the next run closes it and skips everything after the check
    monkeypatch.setattr(delta_window, "utcnow", lambda: opened.closes_at + timedelta(minutes=1))
    late = delta.test()
    states = {ti.task_id: ti.state for ti in late.get_task_instances()}
    assert states.pop("check_window") == TaskInstanceState.SUCCESS
    assert all(s == TaskInstanceState.SKIPPED for s in states.values()), states
    closed = get_window(opened.window_id)
    assert closed.status == "closed" and "48 h passed" in closed.close_reason and current_window() is None


def test_an_unconfirmed_mapping_fails_the_run_at_the_gate_with_the_command_to_confirm(cutover, cutover_run, monkeypatch):
    from airflow.utils.state import DagRunState, TaskInstanceState

    model = cutover.dbt / "models" / "zoho" / "zoho_accounts.sql"
    original = model.read_text()
    model.write_text(original + "\n-- edited after confirmation\n")
    try:
        cutover.use_home("unconfirmed")
        dag = load_dag(monkeypatch, "+zoho_accounts")
        run = dag.test(run_conf=cutover.conf())
    finally:
        model.write_text(original)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == DagRunState.FAILED
    assert states["mapping_gate"] == TaskInstanceState.FAILED
    assert states["prepare_schema"] == TaskInstanceState.UPSTREAM_FAILED
    assert all(s == TaskInstanceState.UPSTREAM_FAILED for t, s in states.items() if t.startswith("load_"))
    with pytest.raises(Exception, match=r"models/zoho/zoho_accounts.sql.*clinic2zoho confirm --by"):
        from clinic2zoho.mapping.gate import require_confirmed

        model.write_text(original + "\n-- edited after confirmation\n")
        try:
            require_confirmed(cutover.dbt, task="the DAG clinic_cutover")
        finally:
            model.write_text(original)


def test_a_sample_not_signed_off_fails_the_run_at_the_gate_with_the_sign_off_command(cutover, monkeypatch):
    """The mapping is confirmed but nobody signed off a sample made with it: nothing after the gate
    runs, and the gate's message names the command."""
    from airflow.utils.state import DagRunState, TaskInstanceState

    home = cutover.use_home("unsigned", signed_off=False)
    dag = load_dag(monkeypatch, "+zoho_accounts")
    run = dag.test(run_conf=cutover.conf())
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == DagRunState.FAILED
    assert states["mapping_gate"] == TaskInstanceState.FAILED
    assert states["prepare_schema"] == TaskInstanceState.UPSTREAM_FAILED
    assert all(s == TaskInstanceState.UPSTREAM_FAILED for t, s in states.items() if t.startswith("load_"))
    from clinic2zoho.orchestration.signoff import SampleNotSignedOff, require_signoff

    with pytest.raises(SampleNotSignedOff, match=r"clinic2zoho sign-off --run RUN --by NAME --work"):
        require_signoff(home, cutover.dbt, task="the DAG clinic_cutover")


def test_a_failing_dbt_test_fails_the_run_and_leaves_every_task_after_the_group_unrun(cutover, monkeypatch, caplog):
    """The gate broken for real: the run gets no provider-email overrides, so providers without an
    email in the export own events yet resolve to no Zoho user and `resolves_to_zoho_user` fails.
    (A duplicate id injected into the export cannot break the gate: staging keeps the latest landed
    version of each source record, so it never reaches a Zoho model.) A fresh home gives the run its
    own warehouse; the selection keeps dbt to zoho_events and its parents."""
    from airflow.utils.state import DagRunState, TaskInstanceState

    home = cutover.use_home("dbt_gate")
    dag = load_dag(monkeypatch, "+zoho_events")
    caplog.set_level(logging.INFO, logger="cosmos")
    run = dag.test(run_conf={"source": str(cutover.export), "format": "generic"})
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == DagRunState.FAILED
    # under dag.test the build ran beside the watching tasks (operators/dbt_background.py): dbt's
    # summary line came from the build's thread, after its task had ended
    [done] = [r for r in caplog.records if "Done. PASS=" in r.getMessage()]
    build_task = run.get_task_instance("dbt_mapping.dbt_producer_watcher")
    assert done.threadName != threading.main_thread().name
    assert datetime.fromtimestamp(done.created, timezone.utc) > build_task.end_date
    before = ["land", "org_users", "quality_report", "mapping_gate", "prepare_schema"]
    assert all(states[t] == TaskInstanceState.SUCCESS for t in before), states
    failed = [t for t, s in states.items() if s == TaskInstanceState.FAILED]
    assert failed and all(t.startswith("dbt_mapping.") for t in failed), states
    # the provider-email gate (resolves_to_zoho_user on zoho_events.Owner) fails the group's gate
    # task, which names the test (the line the failure listener kept for migrate)
    assert failed == ["dbt_mapping.dbt_project_test"], failed
    from clinic2zoho.orchestration.local_airflow import task_failures_file

    reasons = [json.loads(line) for line in task_failures_file(home).read_text().splitlines()]
    gate = [r["message"] for r in reasons if r["task_id"] == "dbt_mapping.dbt_project_test"]
    assert gate and "resolves_to_zoho_user_zoho_events_Owner" in gate[-1], reasons
    after = ["mapping_ready", "estimate", "load_report", "validate", "reports", "open_delta_window"]
    after += [t for t in states if t.startswith("load_")]
    assert "load_events" in after
    assert all(states[t] in (TaskInstanceState.UPSTREAM_FAILED, None) for t in after), \
        {t: states[t] for t in after}
    assert not (home / "reports" / "reconciliation.json").exists()
    # the run's own warehouse: the provider-email test kept its failing row; the narrowed render
    # did not run a test whose seed it never built (referral_source_map is no parent of zoho_events)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        gate = dict(con.execute("SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'gate'")
                    .fetchall())
        owners = con.execute("SELECT count(*) FROM gate.resolves_to_zoho_user_zoho_events_Owner").fetchone()[0]
    assert owners >= 1
    assert "assert_referral_sources_mapped" not in gate
