"""Where one process runs a DAG run's tasks one after another (`airflow dags test`), the dbt build
runs in a thread beside the watching tasks (operators/dbt_background.py): the build task returns
while dbt builds, a watching task waits for its model's result, the gate task for the build's end.
The thread never talks to Airflow (the task SDK's in-process channel serves one caller at a time):
every XCom push of the build is made on the main thread, in the build's order. Cosmos's real log
parser reads the build's lines here; the end-to-end runs are tests/dags/test_clinic_cutover.py's."""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException
from cosmos.operators.watcher import DbtProducerWatcherOperator

from clinic2zoho.transform.build_gate import summary
from clinic2zoho_airflow.listeners import dbt_server
from clinic2zoho_airflow.operators import dbt_background
from clinic2zoho_airflow.operators.dbt_background import build_beside_the_watching_tasks, running_here
from clinic2zoho_airflow.operators.dbt_gate import OUTCOMES_KEY, DbtGateOperator
from clinic2zoho_airflow.operators.dbt_watch import only_watched_nodes_to_xcom
from tests.plugins.test_dbt_watch import MODEL, PROFILE, PROJECT, STARTUP_KEY, STATUS_KEY, BuildState, finished, watcher

STARTUP = json.dumps({"info": {"name": "MainReportVersion", "level": "info", "msg": "Running with dbt=1.10.0",
                               "ts": "2026-12-07T05:00:00.000000Z"}})


@dataclass
class MainThreadOnly:
    """A task instance of the run that fails any XCom call made off the main thread, as the task
    SDK's in-process channel would misbehave there, and records the ones made."""

    task_id: str
    dag_id: str = "clinic_cutover"
    run_id: str = "manual__1"
    try_number: int = 1
    map_index: int = -1
    xcoms: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)

    def _on_main_thread(self, call):
        assert threading.current_thread() is threading.main_thread(), f"{call} from {threading.current_thread().name}"
        self.calls.append(call)

    def xcom_push(self, key, value):
        self._on_main_thread(("push", key))
        self.xcoms[key] = value

    def xcom_pull(self, task_ids=None, key="return_value"):
        self._on_main_thread(("pull", key))
        return self.xcoms.get(key)


@pytest.fixture(autouse=True)
def in_dags_test(monkeypatch):
    """A process that serves Airflow's execution API to itself, no build pushed or running yet."""
    monkeypatch.setattr("clinic2zoho_airflow.in_process_api.serves_itself", lambda: True)
    monkeypatch.setattr("clinic2zoho_airflow.operators.dbt_watch._pushed_here", {})
    monkeypatch.setattr(dbt_background, "_running", {})


def producer_building(tmp_path, build) -> DbtProducerWatcherOperator:
    """The group's build task as clinic_tasks wires it, its dbt build replaced by `build(context,
    parse)`: `parse` is Cosmos's log parser as the build task feeds it dbt's lines."""
    producer = DbtProducerWatcherOperator(project_dir=str(PROJECT), emit_datasets=False, profile_config=PROFILE)
    only_watched_nodes_to_xcom(producer, {MODEL})
    compiled = tmp_path / "target" / "compiled" / "clinic2zoho" / "models" / "zoho" / "zoho_contacts.sql"
    compiled.parent.mkdir(parents=True, exist_ok=True)
    compiled.write_text("select 1 as compiled -- built\n")

    def execute(context, **kwargs):
        parse = producer._make_parse_callable()
        return build(context, lambda line: parse(line, {"context": context, "project_dir": str(tmp_path)}))

    producer.execute = execute
    build_beside_the_watching_tasks(producer)
    return producer


def start(producer) -> MainThreadOnly:
    ti = MainThreadOnly(task_id=producer.task_id)
    assert producer.execute({"ti": ti, "task_instance": ti, "run_id": ti.run_id, "task": producer}) is None
    return ti


def poke(task, build_ti: MainThreadOnly) -> bool:
    running = copy.copy(task)
    ti = MainThreadOnly(task_id="zoho_contacts_run", xcoms=build_ti.xcoms)  # the run's XCom, as Airflow's
    return task.poke({"ti": ti, "run_id": ti.run_id, "task": running})


def gate(build_ti: MainThreadOnly) -> dict:
    ti = MainThreadOnly(task_id="dbt_project_test", xcoms=build_ti.xcoms)
    task = DbtGateOperator(task_id="dbt_project_test", producer_task_id=build_ti.task_id)
    return task.execute({"ti": ti, "run_id": ti.run_id})


def test_the_build_task_returns_while_dbt_builds_and_only_the_main_thread_talks_to_airflow(tmp_path):
    model_built, released = threading.Event(), threading.Event()

    def build(context, parse):
        assert threading.current_thread() is not threading.main_thread()
        parse(STARTUP)  # Cosmos appends it to a list it pulls back from XCom
        released.wait(10)
        parse(finished(MODEL, "model", "zoho/zoho_contacts.sql", "1 of 1 OK created table model zoho.zoho_contacts"))
        model_built.set()
        released.wait(10)
        context["ti"].xcom_push(key=OUTCOMES_KEY, value=summary([]))  # the tests' outcomes, at the end
        context["ti"].xcom_push(key="task_status", value="completed")

    producer = producer_building(tmp_path, build)
    build_ti = start(producer)  # returned at once: the build waits to be released
    build = running_here(build_ti, producer.task_id)
    assert build is not None and not build.done and build_ti.calls == []  # nothing pushed from the thread

    # a watching task waits for its model's result, pushing what the build kept meanwhile
    task, fallbacks = watcher(BuildState("success"))
    threading.Timer(0.2, released.set).start()
    assert poke(task, build_ti) is True and fallbacks == []
    assert model_built.is_set()
    status = build_ti.xcoms[STATUS_KEY]
    assert status["status"] == "success" and status["compiled_sql"] == "select 1 as compiled -- built"
    assert build_ti.xcoms[STARTUP_KEY] == [{"name": "MainReportVersion", "msg": "Running with dbt=1.10.0",
                                            "ts": "2026-12-07T05:00:00.000000Z"}]

    # the gate task waits for the build's end, then reads the tests' outcomes as ever
    passed = gate(build_ti)
    assert passed["tests"] == 0 and passed["warnings"] == 0 and passed["build_seconds"] >= 0.2  # released after 0.2 s
    assert not build._thread.is_alive() and running_here(build_ti, producer.task_id) is None
    pushed = [key for call, key in build_ti.calls if call == "push"]
    assert pushed == [STARTUP_KEY, STATUS_KEY, OUTCOMES_KEY, "task_status"]  # each once, in the build's order


def test_a_failed_build_fails_the_models_it_gave_no_result_and_the_gate(tmp_path):
    def build(context, parse):
        parse(STARTUP)
        raise AirflowException("dbt command failed. The command returned a non-zero exit code 2.")

    producer = producer_building(tmp_path, build)
    build_ti = start(producer)
    task, fallbacks = watcher(BuildState("success"))  # Cosmos would read "success" and keep polling
    with pytest.raises(AirflowException, match="the dbt build .* failed before model 'model.clinic2zoho.zoho_contacts' "
                                               "had a result: dbt command failed"):
        poke(task, build_ti)
    assert fallbacks == []  # the model is not run apart
    with pytest.raises(AirflowFailException, match="the dbt build .* failed: dbt command failed"):
        gate(build_ti)
    assert build_ti.xcoms[STARTUP_KEY]  # what it kept before it failed was pushed


def test_under_an_executor_and_on_a_retry_the_build_runs_inside_its_task(tmp_path, monkeypatch):
    threads = []

    def build(context, parse):
        threads.append(threading.current_thread())
        return "built"

    producer = producer_building(tmp_path, build)
    monkeypatch.setattr("clinic2zoho_airflow.in_process_api.serves_itself", lambda: False)
    ti = MainThreadOnly(task_id=producer.task_id)
    assert producer.execute({"ti": ti, "task_instance": ti, "run_id": ti.run_id, "task": producer}) == "built"
    monkeypatch.setattr("clinic2zoho_airflow.in_process_api.serves_itself", lambda: True)
    retry = MainThreadOnly(task_id=producer.task_id, try_number=2)
    assert producer.execute({"ti": retry, "task_instance": retry, "run_id": retry.run_id, "task": producer}) == "built"
    assert threads == [threading.main_thread()] * 2 and dbt_background._running == {}


def test_a_build_whose_gate_never_ran_is_waited_for_at_the_runs_end(tmp_path):
    """A model's task failed first: the gate task is never run; the run's end waits for the build
    (listeners.dbt_server), so nothing of the run outlives it."""
    released = threading.Event()

    def build(context, parse):
        released.wait(10)

    producer = producer_building(tmp_path, build)
    build_ti = start(producer)
    build = running_here(build_ti, producer.task_id)
    dbt_server.on_dag_run_failed(SimpleNamespace(dag_id="clinic_cutover", run_id="manual__2"), "another run")
    assert build._thread.is_alive()
    threading.Timer(0.2, released.set).start()
    dbt_server.on_dag_run_failed(SimpleNamespace(dag_id="clinic_cutover", run_id="manual__1"), "task failed")
    assert not build._thread.is_alive() and dbt_background._running == {}
