"""What the dbt group's watching tasks and its build do beyond Cosmos's defaults, and what they
leave out. A watching task only reads its model's result from the build's XCom (run by the build's
own process, as `airflow dags test` runs them, from what the build has pushed so far); it runs dbt itself
only in Cosmos's fallback (a retried or manually cleared task, or a build Cosmos skipped on a
retry). Each of its steps is paid once per model in every run (56 in the demo's cutover), so each
one left out is the run's time (bench/orchestration.py prints the group against a plain build)."""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Collection
from typing import Any

from cosmos.listeners.dag_run_listener import EventStatus
from cosmos.operators._watcher.base import BaseConsumerSensor
from cosmos.operators._watcher.state import get_compiled_sql_xcom_key, get_status_xcom_key, get_xcom_val, safe_xcom_push
from cosmos.operators.local import AbstractDbtLocalBase
from cosmos.operators.watcher import DbtConsumerWatcherSensor, DbtProducerWatcherOperator

from clinic2zoho import settings
from clinic2zoho_airflow import in_process_api

log = logging.getLogger(__name__)

DEFAULT_POOL = "default_pool"  # Airflow's own pool (airflow.models.pool.Pool.DEFAULT_POOL_NAME)
COMPILED_SQL = "compiled_sql"  # the model's compiled SQL, in its status XCom (only_watched_nodes_to_xcom)
# What a watching task shows of its model (its id and compiled SQL), stored once its watch ends; the
# other fields (dbt's environment, --vars, selection, flags) only a dbt run reads: a watching task
# renders them when it falls back to running dbt.
WATCH_FIELDS = BaseConsumerSensor.template_fields


def watch_lightly(task: DbtConsumerWatcherSensor) -> None:
    """A watching task as the group runs it: outside the warehouse pool, rendering dbt's vars only
    when it runs dbt, storing what it shows once, and asking for nothing it does not use."""
    watch_outside_the_pool(task)
    render_dbt_fields_to_run_dbt(task)
    read_startup_events_only_to_log_them(task)
    ask_for_the_build_state_when_needed(task)
    read_the_node_event_only_where_the_build_pushed_one(task)
    read_the_compiled_sql_with_the_status(task)
    wait_for_a_build_running_here(task)
    store_what_it_shows_once_with_the_compiled_sql(task)  # around every watch: applied last


def watch_outside_the_pool(task: DbtConsumerWatcherSensor) -> None:
    """A watching task reads its model's result from the build's XCom and never opens the
    warehouse, so it leaves the one-slot warehouse pool: under a parallel executor (Local, Celery)
    the watching tasks run side by side once the build is done, where in the pool each waited for
    the slot, one task process after another (about 2 s each on Celery).
    Only its fallback writes the warehouse: that waits until no other process holds the warehouse."""
    task.pool = DEFAULT_POOL
    fallback = task._fallback_to_non_watcher_run

    def fallback_in_turn(try_number: int, context: Any) -> bool:
        from clinic2zoho.cluster.warehouse_turn import wait_for_warehouse

        wait_for_warehouse(settings.warehouse_path())
        return fallback(try_number, context)

    task._fallback_to_non_watcher_run = fallback_in_turn


def render_dbt_fields_to_run_dbt(task: DbtConsumerWatcherSensor) -> None:
    """dbt's fields are rendered as Airflow would, with the task's own context, just before the
    fallback runs dbt; they stop being template fields (store_what_it_shows_once_with_the_compiled_sql
    leaves a watching task none before its watch, WATCH_FIELDS after it). Before, Airflow compiled
    each string of the environment and vars as a Jinja template and pulled the run's vars from XCom
    (an execution-API call) in every watching task, and sent all twelve fields to the metadata DB
    twice, to use them only in a fallback."""
    deferred = tuple(dict.fromkeys(name for name in task.template_fields if name not in WATCH_FIELDS))
    fallback = task._fallback_to_non_watcher_run

    def fallback_rendered(try_number: int, context: Any) -> bool:
        jinja_env = task.get_template_env()
        for name in deferred:
            setattr(task, name, task.render_template(getattr(task, name), context, jinja_env, set()))
        return fallback(try_number, context)

    task._fallback_to_non_watcher_run = fallback_rendered


def read_startup_events_only_to_log_them(task: DbtConsumerWatcherSensor) -> None:
    """Cosmos reads dbt's start-up events from the build's XCom in every watch only to log them
    at DEBUG: the read (an execution-API call) is left out unless that level is logged."""
    read_and_log = task._log_startup_events

    def at_debug_only(ti: Any) -> None:
        if logging.getLogger("cosmos.operators._watcher.base").isEnabledFor(logging.DEBUG):
            read_and_log(ti)

    task._log_startup_events = at_debug_only


class _NotAsked:
    """The build's state, not asked for yet (see ask_for_the_build_state_when_needed)."""


def ask_for_the_build_state_when_needed(task: DbtConsumerWatcherSensor) -> None:
    """Cosmos asks Airflow for the build's state at the start of every watch (an execution-API
    call), but on a first try reads it only when the model has no result yet (to tell a build
    still running from one that failed or was skipped). On a first try it is now asked for then;
    a retry, which decides between watching and running dbt by it, still asks first."""
    ask = task._get_producer_task_status
    no_result = task._handle_no_dbt_node_status

    def state_or_later(context: Any) -> Any:
        return ask(context) if context["ti"].try_number > 1 else _NotAsked

    def no_result_with_state(producer_task_state: Any, try_number: int, context: Any) -> bool:
        if producer_task_state is _NotAsked:
            producer_task_state = ask(context)
        return no_result(producer_task_state, try_number, context)

    task._get_producer_task_status = state_or_later
    task._handle_no_dbt_node_status = no_result_with_state


def store_what_it_shows_once_with_the_compiled_sql(task: DbtConsumerWatcherSensor) -> None:
    """Airflow stores a task's rendered fields before it runs (when it has template fields) and,
    when the task asks (Cosmos does, to show the compiled SQL it reads from the build), again after:
    two calls to the metadata DB in every watch, the first holding an empty compiled SQL. A
    watching task has nothing to render (its model's id is a literal, the compiled SQL is read in
    the watch), so it starts with no template field, and stores its model's id and compiled SQL
    once, when the watch ends. Applied after render_dbt_fields_to_run_dbt, which reads dbt's
    fields from the template fields Cosmos gave."""
    poke = task.poke

    def poke_then_store(context: Any) -> bool:
        running = context.get("task", task)  # the task instance's own copy of the task
        running.template_fields = WATCH_FIELDS
        running.overwrite_rtif_after_execution = True
        return poke(context)

    task.template_fields = ()
    task.poke = poke_then_store


def read_the_compiled_sql_with_the_status(task: DbtConsumerWatcherSensor) -> None:
    """A model's compiled SQL comes in its status XCom (only_watched_nodes_to_xcom): the watch that
    reads the status keeps it, so showing it asks Airflow for nothing more (Cosmos asks for it apart,
    one execution-API call per watch). A watch resumed from Cosmos's trigger, which reads only
    Cosmos's own key, has it read from the status. A status without it (a build that pushed it apart)
    has it read from Cosmos's key, as before. Tests of a model (Cosmos's test sensors) are Cosmos's."""
    if task.is_test_sensor:
        return

    def status_keeping_the_compiled_sql(ti: Any, context: Any) -> Any:
        running = context.get("task", task)
        key = get_status_xcom_key(running.model_unique_id)
        value = pushed_here(ti, running.producer_task_id, key)
        if value is None:
            value = get_xcom_val(ti, running.producer_task_id, key)
        running._compiled_sql_read = value.get(COMPILED_SQL) if isinstance(value, dict) else None
        if value is None:
            return None
        running._outlet_uris = value.get("outlet_uris", [])
        return value.get("status")

    def compiled_sql_read_with_the_status(ti: Any, context: Any) -> None:
        running = context.get("task", task)
        if not hasattr(running, "_compiled_sql_read"):  # the status not read by this watch yet
            running._get_node_status(ti, context)
        compiled_sql = getattr(running, "_compiled_sql_read", None)
        if not compiled_sql:
            type(running)._cache_compiled_sql(running, ti, context)  # Cosmos's own key
            return
        running.compiled_sql = compiled_sql
        if hasattr(running, "_override_rtif"):
            running._override_rtif(context)

    @functools.wraps(type(task).execute_complete)  # its name: the method a deferral resumes by
    def complete_with_the_compiled_sql(context: Any, event: dict[str, Any]) -> None:
        running = context.get("task", task)
        if isinstance(event, dict) and not event.get(COMPILED_SQL) and event.get("status") == EventStatus.SUCCESS:
            running._cache_compiled_sql(context["ti"], context)
        return type(running).execute_complete(running, context, event)  # Cosmos's, on the running task

    task._get_node_status = status_keeping_the_compiled_sql
    task._cache_compiled_sql = compiled_sql_read_with_the_status
    task.execute_complete = complete_with_the_compiled_sql


def wait_for_a_build_running_here(task: DbtConsumerWatcherSensor) -> None:
    """Where the build runs beside the watching tasks (operators.dbt_background), a watch waits
    for its model's result (a test's watch, for the build's end), pushing what the build kept
    meanwhile, then reads it as ever. A model the build failed before it had a result fails here:
    Cosmos would read the build task's state, "success", and keep polling for a result."""
    from airflow.sdk.exceptions import AirflowException

    from clinic2zoho_airflow.operators.dbt_background import running_here

    poke = task.poke

    def poke_once_the_build_has_it(context: Any) -> bool:
        running = context.get("task", task)
        ti = context["ti"]
        build = running_here(ti, running.producer_task_id)
        if build is None:
            return poke(context)
        key = get_status_xcom_key(running.model_unique_id)

        def has_result() -> bool:
            return not running.is_test_sensor and pushed_here(ti, running.producer_task_id, key) is not None

        build.wait(until=has_result)
        if build.error is not None and not has_result():
            raise AirflowException(f"the dbt build ({running.producer_task_id}) failed before "
                                   f"{running._resource_label.lower()} '{running.model_unique_id}' had a result: "
                                   f"{build.error}")
        return poke(context)

    task.poke = poke_once_the_build_has_it


def dbt_prints_node_events(task: DbtConsumerWatcherSensor) -> bool:
    """Whether the build's dbt prints its debug-level node events (NodeStart, NodeFinished): only
    at its debug log level, set by DBT_LOG_LEVEL or DBT_DEBUG in the build's environment."""
    env = {**os.environ, **(task.env or {})}
    return (str(env.get("DBT_LOG_LEVEL", "")).lower() == "debug"
            or str(env.get("DBT_DEBUG", "")).lower() in ("1", "true", "yes"))


def read_the_node_event_only_where_the_build_pushed_one(task: DbtConsumerWatcherSensor) -> None:
    """Cosmos reads the model's dbt event (its start, finish and message) in every watch to log it.
    The build pushes one from dbt's node events, which dbt prints only at its debug level, and from
    its error events, which only a node that did not succeed has. So a first watch of a model that
    succeeded, with dbt at another level, ends after its status and compiled SQL, and logs its
    result itself; any other watch is Cosmos's."""
    from cosmos.operators._watcher.state import is_dbt_node_status_success

    poke = task.poke

    def poke_success_directly(context: Any) -> bool:
        running = context.get("task", task)
        ti = context["ti"]
        if ti.try_number > 1 or running.is_test_sensor or dbt_prints_node_events(running):
            return poke(context)
        status = running._get_node_status(ti, context)
        if status is None or not is_dbt_node_status_success(status):
            return poke(context)
        running._log_startup_events(ti)
        running._cache_compiled_sql(ti, context)
        log.info("dbt %s '%s': %s in the build of task '%s'", running._resource_label.lower(),
                 running.model_unique_id, status, running.producer_task_id)
        return True

    task.poke = poke_success_directly


def only_watched_nodes_to_xcom(producer: DbtProducerWatcherOperator, watched: Collection[str]) -> None:
    """Cosmos's log parser pushes a node's status, compiled SQL and error events to XCom for the
    task watching it, each an execution-API call, beside the build. Here:
    - The build also builds nodes no task watches: the tests (the gate task reads their outcomes
      from the build's results), the seeds (16 in the demo) and the other formats' staging models
      (17 of its 71 models): 50 of the 158 pushes the demo's cutover made. Their lines are only logged.
    - A watched model's compiled SQL goes into its status XCom (`COMPILED_SQL`), one push where
      Cosmos makes two; its watching task reads both with one call (read_the_compiled_sql_with_the_status)."""
    ids = frozenset(watched)
    parse = producer._make_parse_callable
    forget_what_earlier_builds_pushed(producer)

    def parse_watched_only() -> Any:
        inner = parse()

        def parse_line(line: str, extra_kwargs: Any) -> None:
            event, unique_id = node_event(line)
            if unique_id and unique_id not in ids:
                message = (event.get("info") or {}).get("msg")
                if message:
                    log.info("%s", message)
                return
            context = (extra_kwargs or {}).get("context")
            if not (unique_id and context and context.get("ti") is not None):
                inner(line, extra_kwargs)
                return
            one_push = StatusWithCompiledSql(context["ti"], unique_id)
            try:
                inner(line, {**extra_kwargs, "context": {**context, "ti": one_push}})
            finally:
                one_push.push_status()

        return parse_line

    producer._make_parse_callable = parse_watched_only


def node_event(line: str) -> tuple[dict[str, Any], str | None]:
    """A dbt JSON log line and the unique id of the node it is about (None: no node, not JSON)."""
    if '"unique_id"' not in line:
        return {}, None
    try:
        event = json.loads(line)
    except ValueError:
        return {}, None
    if not isinstance(event, dict):
        return {}, None
    node = (event.get("data") or {}).get("node_info") or {}
    return event, node.get("unique_id")


class StatusWithCompiledSql:
    """The build's task instance as Cosmos's log parser sees it for one line of a watched model: the
    model's status push is held, its compiled SQL added to it, and the two pushed as one when the
    line is parsed (`push_status`). Every other push, pull and attribute is the task instance's."""

    def __init__(self, ti: Any, unique_id: str):
        self._ti = ti
        self._status_key = get_status_xcom_key(unique_id)
        self._sql_key = get_compiled_sql_xcom_key(unique_id)
        self._status: dict[str, Any] | None = None

    def xcom_push(self, key: str, value: Any, **kwargs: Any) -> None:
        if key == self._status_key and isinstance(value, dict) and not kwargs:
            self._status = dict(value)
        elif key == self._sql_key and self._status is not None and not kwargs:
            self._status[COMPILED_SQL] = value
        else:
            self._ti.xcom_push(key=key, value=value, **kwargs)

    def push_status(self) -> None:
        if self._status is not None:
            status, self._status = self._status, None
            # remembered first: a watching task waiting beside the build (operators.dbt_background)
            # is woken by the push, and finds the status here then
            remember_pushed(self._ti, self._status_key, status)
            safe_xcom_push(task_instance=self._ti, key=self._status_key, value=status)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ti, name)


# What the build run by this process pushed for each watched model (its status, as XCom holds it),
# by DAG, run, build task and key. A process that serves Airflow's execution API to itself runs a
# DAG run's tasks one after another (`airflow dags test`: migrate, the demo, the DAG tests), the
# watching tasks beside the build's thread (operators.dbt_background): each takes its model's status
# from here, as soon as the build has it, instead of asking that API
# for what the process itself pushed (one call a watching task, about 5 ms). Emptied whenever a build
# starts, a retry's included, so it holds no more than XCom does; anywhere else it stays empty.
_pushed_here: dict[tuple[str, str, str, str], Any] = {}


def remember_pushed(ti: Any, key: str, value: Any) -> None:
    run = _run_of(ti)
    if run is None or getattr(ti, "map_index", -1) != -1 or not in_process_api.serves_itself():
        return
    try:  # as a watching task would read it back: through XCom's JSON
        _pushed_here[(*run, ti.task_id, key)] = json.loads(json.dumps(value))
    except (TypeError, ValueError):
        _pushed_here.pop((*run, ti.task_id, key), None)


def pushed_here(ti: Any, task_id: str, key: str) -> Any:
    """What this process's build `task_id` of the same run pushed under `key` (as XCom gives it
    back, copied when kept), or None."""
    run = _run_of(ti)
    return _pushed_here.get((*run, task_id, key)) if run else None


def _run_of(ti: Any) -> tuple[str, str] | None:
    dag_id, run_id = getattr(ti, "dag_id", None), getattr(ti, "run_id", None)
    return (dag_id, run_id) if dag_id and run_id else None


def forget_what_earlier_builds_pushed(producer: DbtProducerWatcherOperator) -> None:
    """Each start of the build (a retry, which Cosmos skips, included) empties `_pushed_here` first,
    as Airflow clears a task's XComs when it starts again."""
    execute = type(producer).execute

    def execute_from_nothing_pushed(context: Any, **kwargs: Any) -> Any:
        _pushed_here.clear()
        return execute(context.get("task", producer), context, **kwargs)

    producer.execute = execute_from_nothing_pushed


def lineage_only_where_emitted(task: AbstractDbtLocalBase) -> None:
    """Cosmos turns a dbt run's artifacts into OpenLineage events after every run (0.3 s of the
    build, and the import of the OpenLineage client). Only Airflow's OpenLineage provider reads
    them; without it installed nothing is emitted, so nothing is computed."""
    try:
        import airflow.providers.openlineage  # noqa: F401
    except ImportError:
        task.calculate_openlineage_events_completes = lambda *args, **kwargs: False


def no_log_file_left_in_the_temporary_project(task: AbstractDbtLocalBase) -> None:
    """Cosmos runs the build in a temporary copy of the project, and dbt writes its log file into
    that copy's `logs` folder, removed with it once the build ends; the log's lines are the
    task's log already. Writing that file cost a plain build of the demo's warehouse about 1 s,
    and the cutover's build about 2 s. So the build writes none, unless DBT_LOG_PATH names a folder
    that outlives it."""
    env = dict(task.env or {})
    if not (os.environ.get("DBT_LOG_PATH") or env.get("DBT_LOG_PATH")):
        env["DBT_LOG_LEVEL_FILE"] = "none"
    task.env = env
