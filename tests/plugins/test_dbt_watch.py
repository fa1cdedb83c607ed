"""The build hands XCom only what a watching task reads: a watched model's status with its compiled
SQL, in one push; the lines of the nodes no task watches are only logged.
A watching dbt task asks Airflow only for what it uses: its model's result and compiled SQL from
the build's XCom (one read; two for a build that pushed the SQL apart), its dbt event only where the build pushed one (a node that did not succeed, or
dbt at its debug level); the build's state only when it has no result yet or on a retry; dbt's
start-up events only when DEBUG is logged. It stores its rendered fields once, after the watch.
The end-to-end retry, where it renders the run's vars and runs its own model, is
tests/dags/test_clinic_cutover.py's."""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from airflow.exceptions import AirflowException
from cosmos.config import ProfileConfig
from cosmos.operators.watcher import DbtProducerWatcherOperator, DbtRunWatcherOperator

from clinic2zoho_airflow.operators.dbt_watch import (lineage_only_where_emitted, no_log_file_left_in_the_temporary_project,
                                                     only_watched_nodes_to_xcom, watch_lightly)

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
PROFILE = ProfileConfig(profile_name="clinic2zoho", target_name="local", profiles_yml_filepath=PROJECT / "profiles.yml")
MODEL = "model.clinic2zoho.zoho_contacts"
UNWATCHED = "model.clinic2zoho.stg_fhir__patient"  # another format's staging model
TEST = "test.clinic2zoho.not_null_zoho_contacts_Last_Name.5f2b9c1e2a"
STATUS_KEY = "model__clinic2zoho__zoho_contacts_status"
SQL_KEY = "model__clinic2zoho__zoho_contacts_compiled_sql"
EVENT_KEY = "model__clinic2zoho__zoho_contacts_dbt_event"  # cosmos.operators._watcher.xcom's keys
COMPILED = "select 1 as compiled"
STARTUP_KEY = "dbt_startup_events"  # cosmos.constants._DBT_STARTUP_EVENTS_XCOM_KEY
VAR_TEMPLATE = "{{ ti.xcom_pull(task_ids='land')['clinic_timezone'] }}"  # as the run's vars are read
LANDED = {"clinic_timezone": "Europe/Berlin"}


@dataclass
class TaskInstanceReads:
    """The build's XComs as a task instance reads them (and as the build's own pushes them), and
    which keys it asked for."""

    try_number: int = 1
    map_index: int = -1
    xcoms: dict = field(default_factory=dict)
    asked: list = field(default_factory=list)

    def xcom_pull(self, task_ids=None, key="return_value"):
        self.asked.append(key)
        return self.xcoms.get(key)

    def xcom_push(self, key, value):
        self.xcoms[key] = value


class BuildState:
    """Airflow's answer for the build's state (an execution-API call), counted."""

    def __init__(self, state: str):
        self.state, self.calls = state, 0

    def __call__(self, context):
        self.calls += 1
        return self.state


def watcher(build_state: BuildState) -> tuple[DbtRunWatcherOperator, list]:
    task = DbtRunWatcherOperator(
        task_id="zoho_contacts_run", project_dir=str(PROJECT),
        profile_config=PROFILE,
        extra_context={"dbt_node_config": {"unique_id": MODEL}},
        env={"CLINIC2ZOHO_WAREHOUSE": "warehouse.duckdb"},
        vars={"clinic_timezone": VAR_TEMPLATE}, dbt_cmd_flags=["--threads", "{{ 1 + 1 }}"])
    task._get_producer_task_status = build_state  # what Cosmos asks Airflow through
    fallbacks = []
    task._fallback_to_non_watcher_run = lambda try_number, context: fallbacks.append(try_number) or True
    watch_lightly(task)
    return task, fallbacks


def test_a_first_watch_with_a_result_asks_for_nothing_else(monkeypatch):
    monkeypatch.delenv("DBT_LOG_LEVEL", raising=False)
    monkeypatch.delenv("DBT_DEBUG", raising=False)
    state = BuildState("success")
    task, fallbacks = watcher(state)
    running = copy.copy(task)
    ti = TaskInstanceReads(xcoms={STATUS_KEY: {"status": "success", "outlet_uris": [], "compiled_sql": COMPILED}})
    assert task.poke({"ti": ti, "run_id": "manual__1", "task": running}) is True
    assert state.calls == 0 and fallbacks == []
    assert ti.asked == [STATUS_KEY]  # no start-up events, no dbt event (dbt printed none), the SQL came with it
    assert running.compiled_sql == COMPILED


def test_a_build_that_pushed_the_compiled_sql_apart_has_it_read_from_cosmoss_key():
    task, _ = watcher(BuildState("success"))
    running = copy.copy(task)
    ti = TaskInstanceReads(xcoms={STATUS_KEY: {"status": "success", "outlet_uris": []}, SQL_KEY: COMPILED})
    assert task.poke({"ti": ti, "run_id": "manual__1", "task": running}) is True
    assert ti.asked == [STATUS_KEY, SQL_KEY]
    assert running.compiled_sql == COMPILED


def test_a_watch_resumed_from_cosmoss_trigger_reads_the_compiled_sql_from_the_status():
    from airflow.sdk.exceptions import TaskDeferred

    task, _ = watcher(BuildState("running"))
    waiting = copy.copy(task)
    with pytest.raises(TaskDeferred) as deferred:  # no result yet, the build still running: it defers
        waiting.execute({"ti": TaskInstanceReads(), "run_id": "manual__1", "task": waiting,
                         "task_instance": TaskInstanceReads()})
    assert deferred.value.method_name == "execute_complete"  # what the resumed task is called by

    # Cosmos's trigger (another process) reads only Cosmos's SQL key: its event has none
    running = copy.copy(task)
    ti = TaskInstanceReads(xcoms={STATUS_KEY: {"status": "success", "outlet_uris": [], "compiled_sql": COMPILED}})
    running.execute_complete({"ti": ti, "run_id": "manual__1", "task": running}, {"status": "success"})
    assert running.compiled_sql == COMPILED
    assert STATUS_KEY in ti.asked

    failed = copy.copy(task)  # a failed node is still Cosmos's to fail
    with pytest.raises(AirflowException, match="failed"):
        failed.execute_complete({"ti": TaskInstanceReads(), "run_id": "manual__1", "task": failed},
                                {"status": "failed", "reason": "node_failed"})


def test_the_rendered_fields_are_stored_once_after_the_watch_with_the_compiled_sql():
    # what Airflow's task runner sends to the metadata DB: before the task, these fields when there
    # are any; after it, these again when the task asks
    from airflow.sdk.execution_time.task_runner import _serialize_rendered_fields

    task, _ = watcher(BuildState("success"))
    running = copy.copy(task)  # as Airflow runs it: a copy of the parsed task (prepare_for_execution)
    assert _serialize_rendered_fields(running) == {}  # nothing stored before the watch
    ti = TaskInstanceReads(xcoms={STATUS_KEY: {"status": "success", "outlet_uris": []}, SQL_KEY: COMPILED})
    assert task.poke({"ti": ti, "run_id": "manual__1", "task": running}) is True
    assert running.overwrite_rtif_after_execution
    assert _serialize_rendered_fields(running) == {"model_unique_id": MODEL, "compiled_sql": COMPILED}


def test_a_model_that_failed_or_dbt_at_debug_has_its_dbt_event_read_and_logged(monkeypatch, caplog):
    event = {"status": "error", "msg": "Runtime Error in model zoho_contacts", "start_time": None, "finish_time": None}
    task, _ = watcher(BuildState("success"))
    ti = TaskInstanceReads(xcoms={STATUS_KEY: {"status": "error", "outlet_uris": []}, SQL_KEY: COMPILED,
                                  EVENT_KEY: event})
    with caplog.at_level(logging.INFO), pytest.raises(AirflowException, match="finished with status 'error'"):
        task.poke({"ti": ti, "run_id": "manual__1"})
    assert EVENT_KEY in ti.asked and "Runtime Error in model zoho_contacts" in caplog.text

    monkeypatch.setenv("DBT_LOG_LEVEL", "debug")  # dbt prints its node events: the build pushed one
    task, _ = watcher(BuildState("success"))
    ti = TaskInstanceReads(xcoms={STATUS_KEY: {"status": "success", "outlet_uris": []}, SQL_KEY: COMPILED,
                                  EVENT_KEY: {**event, "status": "success", "msg": None}})
    assert task.poke({"ti": ti, "run_id": "manual__1"}) is True
    assert EVENT_KEY in ti.asked


def test_a_first_watch_without_a_result_asks_for_the_builds_state_and_acts_on_it():
    running = BuildState("running")
    task, fallbacks = watcher(running)
    assert task.poke({"ti": TaskInstanceReads(), "run_id": "manual__1"}) is False  # watch again later
    assert running.calls == 1 and fallbacks == []

    skipped = BuildState("skipped")  # Cosmos skipped the build: the task runs its model itself
    task, fallbacks = watcher(skipped)
    assert task.poke({"ti": TaskInstanceReads(xcoms={"return_value": LANDED}), "run_id": "manual__1"}) is True
    assert skipped.calls == 1 and fallbacks == [1]
    assert task.vars == LANDED and task.dbt_cmd_flags == ["--threads", "2"]  # rendered for its dbt run

    failed = BuildState("failed")  # the build failed after a first watch: the task fails
    task, fallbacks = watcher(failed)
    task.poke_retry_number = 1
    with pytest.raises(AirflowException, match="dbt build command failed"):
        task.poke({"ti": TaskInstanceReads(), "run_id": "manual__1"})
    assert failed.calls == 1 and fallbacks == []


def test_a_retry_asks_for_the_builds_state_first_and_runs_its_model_once_the_build_ended():
    state = BuildState("success")
    task, fallbacks = watcher(state)
    ti = TaskInstanceReads(try_number=2, xcoms={STATUS_KEY: {"status": "success", "outlet_uris": []},
                                                "return_value": LANDED})
    assert task.poke({"ti": ti, "run_id": "manual__1"}) is True
    assert state.calls == 1 and fallbacks == [2]
    assert ti.asked == ["return_value"]  # decided by the state alone: the one read is the run's vars
    assert task.vars == LANDED and task.env == {"CLINIC2ZOHO_WAREHOUSE": "warehouse.duckdb"}


def test_startup_events_are_read_when_debug_is_logged(caplog):
    task, _ = watcher(BuildState("success"))
    ti = TaskInstanceReads(xcoms={STATUS_KEY: {"status": "success", "outlet_uris": []},
                                  STARTUP_KEY: [{"name": "MainReportVersion", "msg": "Running with dbt=1.11"}]})
    with caplog.at_level(logging.DEBUG, logger="cosmos.operators._watcher.base"):
        assert task.poke({"ti": ti, "run_id": "manual__1"}) is True
    assert STARTUP_KEY in ti.asked
    assert "Running with dbt=1.11" in caplog.text


def test_the_dbt_fields_are_left_to_the_fallback():
    task, _ = watcher(BuildState("success"))
    # what Airflow renders before a watch: nothing (what it shows is stored after the watch)
    assert task.template_fields == ()
    assert {"env", "vars", "select", "dbt_cmd_flags"} <= set(DbtRunWatcherOperator.template_fields)  # Cosmos's
    assert task.vars == {"clinic_timezone": VAR_TEMPLATE}  # until a fallback renders it
    assert task.dbt_cmd_flags == ["--threads", "{{ 1 + 1 }}"]


def test_no_lineage_is_computed_without_airflows_openlineage_provider():
    pytest.importorskip("openlineage.common.provider.dbt.local")  # Cosmos's own dependency
    try:
        import airflow.providers.openlineage  # noqa: F401
        pytest.skip("the OpenLineage provider is installed: Cosmos computes lineage for it")
    except ImportError:
        pass
    task, _ = watcher(BuildState("success"))
    lineage_only_where_emitted(task)
    assert task.calculate_openlineage_events_completes({}, PROJECT, ["dbt", "build"]) is False


def test_the_build_writes_no_log_file_into_its_temporary_project_unless_a_log_path_is_given(monkeypatch):
    monkeypatch.delenv("DBT_LOG_PATH", raising=False)
    task, _ = watcher(BuildState("success"))
    shared = {"CLINIC2ZOHO_WAREHOUSE": "warehouse.duckdb", "DBT_LOG_LEVEL_FILE": "info"}
    task.env = shared
    no_log_file_left_in_the_temporary_project(task)
    assert task.env == {"CLINIC2ZOHO_WAREHOUSE": "warehouse.duckdb", "DBT_LOG_LEVEL_FILE": "none"}
    assert shared["DBT_LOG_LEVEL_FILE"] == "info"  # the other tasks' environment is not this one

    monkeypatch.setenv("DBT_LOG_PATH", "/var/log/dbt")  # a folder that outlives the build: its file is kept
    task.env = dict(shared)
    no_log_file_left_in_the_temporary_project(task)
    assert task.env["DBT_LOG_LEVEL_FILE"] == "info"


def finished(unique_id: str, resource_type: str, node_path: str, msg: str) -> str:
    """A node's result line, as dbt prints it in its JSON log format."""
    return json.dumps({
        "info": {"name": "LogModelResult" if resource_type == "model" else "LogTestResult", "level": "info",
                 "msg": msg, "ts": "2026-12-07T05:00:00.000000Z"},
        "data": {"node_info": {"unique_id": unique_id, "resource_type": resource_type, "node_path": node_path,
                               "node_status": "success" if resource_type == "model" else "pass",
                               "node_started_at": "2026-12-07T04:59:59", "node_finished_at": "2026-12-07T05:00:00"}},
    })


def test_only_a_watched_models_result_reaches_xcom_and_every_line_is_logged(tmp_path, caplog):
    producer = DbtProducerWatcherOperator(project_dir=str(PROJECT), emit_datasets=False, profile_config=PROFILE)
    only_watched_nodes_to_xcom(producer, {MODEL})
    compiled = tmp_path / "target" / "compiled" / "clinic2zoho" / "models"
    for path in ("zoho/zoho_contacts.sql", "staging/fhir/stg_fhir__patient.sql"):
        (compiled / path).parent.mkdir(parents=True, exist_ok=True)
        (compiled / path).write_text(f"select 1 as compiled -- {path}\n")
    ti = TaskInstanceReads()
    parse = producer._make_parse_callable()
    lines = [finished(MODEL, "model", "zoho/zoho_contacts.sql", "1 of 3 OK created sql table model zoho.zoho_contacts"),
             finished(UNWATCHED, "model", "staging/fhir/stg_fhir__patient.sql", "2 of 3 OK created sql view model stg_fhir__patient"),
             finished(TEST, "test", "not_null_zoho_contacts_Last_Name.sql", "3 of 3 PASS not_null_zoho_contacts_Last_Name")]
    with caplog.at_level(logging.INFO):
        for line in lines:
            parse(line, {"context": {"ti": ti}, "project_dir": str(tmp_path)})

    assert ti.xcoms[STATUS_KEY]["status"] == "success"
    assert "zoho/zoho_contacts.sql" in ti.xcoms[STATUS_KEY]["compiled_sql"]
    assert sorted(ti.xcoms) == [STATUS_KEY], sorted(ti.xcoms)  # one push: the SQL rides with the status
    for message in ("OK created sql table model zoho.zoho_contacts", "OK created sql view model stg_fhir__patient",
                    "PASS not_null_zoho_contacts_Last_Name"):
        assert message in caplog.text

    # what the watching task then shows, with one read
    task, _ = watcher(BuildState("success"))
    running = copy.copy(task)
    ti.asked.clear()
    assert task.poke({"ti": ti, "run_id": "manual__1", "task": running}) is True
    assert ti.asked == [STATUS_KEY]
    assert running.compiled_sql == "select 1 as compiled -- zoho/zoho_contacts.sql"


@pytest.fixture(autouse=True)
def nothing_pushed_here_yet(monkeypatch):
    """Each test starts in a process whose build pushed nothing yet."""
    monkeypatch.setattr("clinic2zoho_airflow.operators.dbt_watch._pushed_here", {})


@dataclass
class RunTaskInstance(TaskInstanceReads):
    """A task instance of one DAG run, as the build's and a watching task's are."""

    dag_id: str = "clinic_cutover"
    run_id: str = "manual__1"
    task_id: str = "dbt_producer_watcher"


def build_pushed(tmp_path: Path, producer: DbtProducerWatcherOperator, ti: RunTaskInstance) -> None:
    """The build's log parser reads the watched model's result line, as in a build."""
    compiled = tmp_path / "target" / "compiled" / "clinic2zoho" / "models" / "zoho" / "zoho_contacts.sql"
    compiled.parent.mkdir(parents=True, exist_ok=True)
    compiled.write_text("select 1 as compiled -- built\n")
    line = finished(MODEL, "model", "zoho/zoho_contacts.sql", "1 of 1 OK created sql table model zoho.zoho_contacts")
    producer._make_parse_callable()(line, {"context": {"ti": ti}, "project_dir": str(tmp_path)})


def watch(ti: RunTaskInstance) -> DbtRunWatcherOperator:
    task, fallbacks = watcher(BuildState("success"))
    running = copy.copy(task)
    assert task.poke({"ti": ti, "run_id": ti.run_id, "task": running}) is True and fallbacks == []
    return running


@pytest.mark.parametrize("serves_itself", [True, False], ids=["dags-test", "executor"])
def test_a_watch_run_by_the_process_of_the_build_takes_the_status_it_pushed(monkeypatch, tmp_path, serves_itself):
    """Under `airflow dags test` the watching tasks run in the build's process after it: each takes
    what the build pushed without asking the execution API for it back; a process that does not
    serve that API to itself (a worker of an executor) keeps nothing and reads XCom."""
    monkeypatch.setattr("clinic2zoho_airflow.in_process_api.serves_itself", lambda: serves_itself)
    producer = DbtProducerWatcherOperator(project_dir=str(PROJECT), emit_datasets=False, profile_config=PROFILE)
    only_watched_nodes_to_xcom(producer, {MODEL})
    build = RunTaskInstance(task_id=producer.task_id)
    build_pushed(tmp_path, producer, build)

    same_run = RunTaskInstance(task_id="zoho_contacts_run", xcoms=dict(build.xcoms))
    running = watch(same_run)
    assert same_run.asked == ([] if serves_itself else [STATUS_KEY])
    assert running.compiled_sql == "select 1 as compiled -- built"

    other_run = RunTaskInstance(task_id="zoho_contacts_run", run_id="manual__2", xcoms=dict(build.xcoms))
    watch(other_run)
    assert other_run.asked == [STATUS_KEY]  # another run's build: XCom


def test_each_start_of_the_build_forgets_what_an_earlier_one_pushed(monkeypatch, tmp_path):
    """A build that starts again (a retry, which Cosmos skips) has its XComs cleared by Airflow:
    what this process kept of the earlier one goes with them."""
    monkeypatch.setattr("clinic2zoho_airflow.in_process_api.serves_itself", lambda: True)
    started = []
    monkeypatch.setattr(DbtProducerWatcherOperator, "execute", lambda self, context, **kwargs: started.append(self))
    producer = DbtProducerWatcherOperator(project_dir=str(PROJECT), emit_datasets=False, profile_config=PROFILE)
    only_watched_nodes_to_xcom(producer, {MODEL})
    build = RunTaskInstance(task_id=producer.task_id)
    build_pushed(tmp_path, producer, build)

    running_build = copy.copy(producer)
    running_build.execute({"ti": build, "task": running_build})
    assert started == [running_build]  # Cosmos's own execute, on the task instance's copy
    cleared = RunTaskInstance(task_id="zoho_contacts_run", xcoms={STATUS_KEY: {"status": "success", "compiled_sql": COMPILED}})
    assert watch(cleared).compiled_sql == COMPILED
    assert cleared.asked == [STATUS_KEY]
