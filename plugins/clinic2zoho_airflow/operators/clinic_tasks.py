"""Building blocks the clinic DAGs share: the Cosmos task group that builds the mapping with dbt
(one `dbt build` watched by one task per model, then all dbt tests in one task: the gate), and
one load task per Zoho module ordered by the lookups between modules."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

from airflow.sdk import TriggerRule

from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos import settings as cosmos_settings
from cosmos.operators.watcher import DbtConsumerWatcherSensor
from cosmos.constants import PRODUCER_WATCHER_TASK_ID, ExecutionMode, InvocationMode, LoadMode, TestBehavior

from clinic2zoho import settings
from clinic2zoho.cluster.pools import WAREHOUSE_POOL
from clinic2zoho.loader.plan import LoadPlan
from clinic2zoho.mapping.files import dbt_project_dir
from clinic2zoho.orchestration.dbt_manifest import current_manifest
from clinic2zoho.orchestration.dbt_render import dbt_render_from_env
from clinic2zoho.orchestration.plan_nodes import plan_from_nodes, upstream_modules
from clinic2zoho.orchestration.steps import FILE_VARS
from clinic2zoho.transform.build_gate import WARN_ONLY_VAR
from clinic2zoho.transform.dbt_process import dbt_executable
from clinic2zoho.transform.dbt_runner import TELEMETRY_ENV, dbt_log_env
from clinic2zoho_airflow.hooks.dbt_forked import ForkedDbtSubprocessHook
from clinic2zoho_airflow.operators.dbt_background import build_beside_the_watching_tasks
from clinic2zoho_airflow.operators.dbt_gate import GATE_TASK_ID, DbtGateOperator, build_with_tests
from clinic2zoho_airflow.operators.dbt_watch import (lineage_only_where_emitted, no_log_file_left_in_the_temporary_project,
                                                     only_watched_nodes_to_xcom, watch_lightly)
from clinic2zoho_airflow.operators.zoho_params import ParamZohoLoadOperator

SEEDS = "resource_type:seed"

# Cosmos keeps a copy of the build's XComs in an Airflow Variable for the build's retries (its
# "reliable retry"): a compressed blob of compiled SQL written at every node, into the metadata DB
# and, at DEBUG, the task log. The build here has no automatic retry, and a manually cleared build
# leaves each model's task to run its own model (Cosmos's fallback), which needs no copy.
cosmos_settings.enable_watcher_reliable_retry = False


def release_warehouse(project_dir: str, **_: Any) -> None:
    """After a dbt task: close the DuckDB file dbt-duckdb keeps open in the process that ran dbt
    (a class-level environment), so the next task of the same process (`dag.test()` runs them
    all in one) may open the warehouse read-only. A process where dbt-duckdb never ran (the build
    runs dbt in a child; the watching tasks only read its XCom) holds nothing: no import of it
    (0.7 s) just to find that out."""
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is None:
        return
    DuckDBConnectionManager = connections.DuckDBConnectionManager  # noqa: N806 (a class)
    with DuckDBConnectionManager._LOCK:
        env, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if env is not None:
        env.close()


def dbt_mapping_group(group_id: str = "dbt_mapping", vars_from: str = "land") -> DbtTaskGroup:
    """The dbt project rendered by Cosmos in its watcher mode: one task (`dbt_producer_watcher`)
    runs one `dbt build` of every seed, model and test with dbt's threads, the tests as warnings so
    that a failing one skips nothing after it; one task per model shows that model's result; then
    the gate task (`dbt_project_test`, operators.dbt_gate) fails naming every test that stops the
    load, and nothing after the group runs unless all pass. DuckDB takes one writer per file: the
    build runs in the warehouse pool and releases the file when done; the watching tasks only read
    its XCom. `vars_from`: the task whose XCom holds the run's dbt vars (time zone, the clinic's CSV
    inputs). What is rendered: `orchestration.dbt_render` (the export's format, a narrowing selection).

    Speed: one dbt start for seeds, models and tests; the watching tasks still add to it
    (bench/orchestration.py prints the group against one plain `dbt build`)."""
    project = dbt_project_dir()
    render = dbt_render_from_env()
    env = {**TELEMETRY_ENV, **dbt_log_env(), "CLINIC2ZOHO_WAREHOUSE": str(settings.warehouse_path())}
    profile = ProfileConfig(profile_name="clinic2zoho", target_name="local",
                            profiles_yml_filepath=project / "profiles.yml")
    common = {
        "pool": WAREHOUSE_POOL,
        "callback": release_warehouse,
        # no Airflow asset per dbt model: nothing is scheduled on them (the DAGs' own assets are
        # the landed export and the loaded org), and computing them costs every task time
        "emit_datasets": False,
        # the run's vars, and the tests as warnings (the build's gate decides: dbt_gate), in every
        # dbt task of the group: a watching task's fallback `dbt run` (no test) then starts from the
        # parse the build left in the shared cache, where one var more made dbt parse it all again
        "vars": {**{key: "{{ " + f"{RUN_VAR_MACRO}(ti, '{vars_from}', '{key}')" + " }}"
                    for key in ("clinic_timezone", "document_url_base", *FILE_VARS)}, WARN_ONLY_VAR: True},
    }
    # the work folder's manifest when it was parsed from the project as it is now: no `dbt ls` at parse
    manifest = current_manifest(project)
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(dbt_project_path=project, env_vars=env, install_dbt_deps=False,
                                     partial_parse=True, manifest_path=manifest,
                                     project_name="clinic2zoho" if manifest else None),
        profile_config=profile,
        # dbt in the task's own process (no interpreter start; the build itself runs dbt as a
        # subprocess: watch_after_build). No test task from Cosmos: the build runs the tests
        # (operators.dbt_gate), selecting a test only when all the models it reads were selected.
        execution_config=ExecutionConfig(execution_mode=ExecutionMode.WATCHER,
                                         invocation_mode=InvocationMode.DBT_RUNNER),
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST if manifest else LoadMode.DBT_LS,
                                   test_behavior=TestBehavior.NONE,
                                   select=render.select, exclude=[*render.other_format_tags, SEEDS],
                                   invocation_mode=InvocationMode.SUBPROCESS, dbt_executable_path=dbt_executable()),
        operator_args=common,
    )
    watch_after_build(group, group_id)
    share_partial_parse(group, project)
    register_run_var_macro(group)
    return group


def share_partial_parse(group: DbtTaskGroup, project: Path) -> None:
    """One Cosmos cache folder for every DAG that builds `project`, instead of one per DAG: the
    cutover's build then starts from the partial parse the sample's build (or the previous run)
    left, where it would parse the whole project again (3 s of its build). dbt checks the saved
    parse against the project's files, vars, profile and target, and parses afresh what differs,
    so sharing it never makes a build stale."""
    if not cosmos_settings.enable_cache:
        return
    key = hashlib.sha256(str(project.resolve()).encode()).hexdigest()[:12]
    shared = cosmos_settings.cache_dir / f"clinic2zoho__dbt_project_{key}"
    for task in group.children.values():
        if getattr(task, "cache_dir", None) is not None:
            task.cache_dir = shared


RUN_VAR_MACRO = "dbt_run_var"
_pulled: dict[tuple, dict[str, Any]] = {}  # the XCom one task instance's templates read


def dbt_run_var(ti: Any, source_task: str, key: str) -> Any:
    """One of the run's dbt vars from `source_task`'s XCom, pulled once per task instance: every
    dbt task renders eight vars, and each pull is a call to Airflow's execution API."""
    token = (ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.try_number, source_task)
    if token not in _pulled:
        _pulled.clear()
        _pulled[token] = ti.xcom_pull(task_ids=source_task)
    # as the XCom indexed in the template was: a key (or an XCom) missing renders empty
    return (_pulled[token] or {}).get(key, "")


def register_run_var_macro(group: DbtTaskGroup) -> None:
    """Make `dbt_run_var` a macro of the group's DAG (its dbt tasks' templates call it)."""
    dag = group.dag
    dag.user_defined_macros = {**(dag.user_defined_macros or {}), RUN_VAR_MACRO: dbt_run_var}


def watch_after_build(group: DbtTaskGroup, group_id: str) -> None:
    """Order the watcher group so it runs the same under every executor, `airflow dags test`
    included (one task at a time: a watching task must not wait for a build not yet started).

    - The build comes first: the watching tasks with nothing upstream in the group wait for it
      (Cosmos does this only in a DbtDag). They run when it succeeded, or when Cosmos skipped it
      on a retry (they then run their own model, Cosmos's retry path), never after it failed.
    - The build also builds what is not rendered as a task: the seeds (the mapping's value maps:
      a task each would cost more than building them), the other formats' staging models
      (empty views the intermediate models union) and the tests, as a plain `dbt build` does.
    - The gate task comes last, after every watching task.
    - Where one process runs the run's tasks one after another (`airflow dags test`), the build
      task starts the build in a thread and returns: the watching tasks run beside the build, each
      waiting for its model's result, and the gate task waits for its end (operators.dbt_background)."""
    producer = group.children[f"{group_id}.{PRODUCER_WATCHER_TASK_ID}"]
    producer.exclude = None
    # dbt in its own process: dbt's JSON log lines are parsed as they come, instead of each event
    # being serialised in the build's own interpreter (the in-process callback slows the build);
    # that process forked from the dbt fork server, which imported dbt already (hooks.dbt_forked)
    producer.invocation_mode = InvocationMode.SUBPROCESS
    producer.dbt_executable_path = dbt_executable()
    producer.subprocess_hook = ForkedDbtSubprocessHook()
    producer.doc_md = ("One `dbt build` of the seeds, models and tests (as warnings; the gate task "
                       "decides); the tasks of each model show its result.")
    build_with_tests(producer)
    watchers = [task for task in group.children.values() if isinstance(task, DbtConsumerWatcherSensor)]
    only_watched_nodes_to_xcom(producer, {task.model_unique_id for task in watchers})
    build_beside_the_watching_tasks(producer)
    leaves = list(group.leaves)
    with group:
        gate = DbtGateOperator(task_id=GATE_TASK_ID, producer_task_id=producer.task_id,
                               doc_md="The gate: fails naming every dbt test of the build that stops the load.")
    leaves >> gate
    for task in group.roots:
        if task not in (producer, gate):
            producer >> task
            task.trigger_rule = TriggerRule.NONE_FAILED
    lineage_only_where_emitted(producer)
    no_log_file_left_in_the_temporary_project(producer)
    for task in watchers:
        watch_lightly(task)


def render_time_plan(group: DbtTaskGroup) -> LoadPlan:
    """The modules to load and their order, from the models Cosmos rendered (their meta)."""
    nodes = [{"name": n.name, "config": n.config} for n in group.dbt_graph.filtered_nodes.values()
             if str(n.resource_type.value if hasattr(n.resource_type, "value") else n.resource_type) == "model"]
    return plan_from_nodes(nodes)


def ordered_loads(group: DbtTaskGroup, *, after: Any, before: Any, plan_task: str) -> dict[str, ParamZohoLoadOperator]:
    """The load tasks of the modules the rendered models hold, in lookup order between `after` and
    `before`; they read the run's plan from the XCom of `plan_task`, the Connection and the
    export folder (attachments) from the params."""
    plan = render_time_plan(group)
    tasks = zoho_load_tasks(plan, plan_path="{{ ti.xcom_pull(task_ids='" + plan_task + "')['plan_path'] }}",
                            zoho_conn_id="{{ params.zoho_conn_id }}", files_root="{{ params.source }}")
    first, last = first_and_last(tasks, plan)
    after >> first
    last >> before
    return tasks


def zoho_load_tasks(plan: LoadPlan, *, plan_path: str, zoho_conn_id: str, files_root: str,
                    **operator_args: Any) -> dict[str, ParamZohoLoadOperator]:
    """One deferrable load task per module (a bulk job frees the worker slot while Zoho works),
    each after the modules its lookups point at; retries resume the run from its journal."""
    tasks = {
        module: ParamZohoLoadOperator(
            task_id=f"load_{module.lower()}", modules=[module], plan_path=plan_path, zoho_conn_id=zoho_conn_id,
            files_root=files_root, deferrable=True, retries=2, **operator_args)
        for module in plan.order()
    }
    for module, needs in upstream_modules(plan).items():
        for upstream in needs:
            tasks[upstream] >> tasks[module]
    return tasks


def first_and_last(tasks: dict[str, Any], plan: LoadPlan) -> tuple[list[Any], list[Any]]:
    """Load tasks with nothing upstream, and those nothing waits for."""
    needs = upstream_modules(plan)
    needed = {u for ups in needs.values() for u in ups}
    return ([tasks[m] for m, ups in needs.items() if not ups], [tasks[m] for m in needs if m not in needed])
