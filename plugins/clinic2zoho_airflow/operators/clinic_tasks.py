"""Building blocks the clinic DAGs share: the Cosmos task group that builds the mapping with dbt
(one `dbt build` task per model with its tests, the gate), and one load task per Zoho module ordered by
the lookups between modules."""

from __future__ import annotations

import os
from typing import Any

from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode, TestBehavior

from clinic2zoho import settings
from clinic2zoho.cluster.pools import WAREHOUSE_POOL
from clinic2zoho.loader.plan import LoadPlan
from clinic2zoho.mapping.files import dbt_project_dir
from clinic2zoho.orchestration.plan_nodes import plan_from_nodes, upstream_modules
from clinic2zoho.transform.dbt_runner import TELEMETRY_ENV, dbt_executable
from clinic2zoho_airflow.operators.zoho_params import ParamZohoLoadOperator


def release_warehouse(project_dir: str, **_: Any) -> None:
    """After a dbt task: close the DuckDB file dbt-duckdb keeps open in the process that ran dbt
    (a class-level environment), so the next task of the same process (`dag.test()` runs them
    all in one) may open the warehouse read-only."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if env is not None:
        env.close()


def dbt_mapping_group(group_id: str = "dbt_mapping", vars_from: str = "land") -> DbtTaskGroup:
    """The dbt project rendered by Cosmos. DuckDB takes one writer per file: every dbt task runs
    in the warehouse pool and releases the file when done. `vars_from`: the
    task whose XCom holds the run's dbt vars (time zone, the clinic's CSV inputs).

    Speed: dbt partial parsing works across the tasks through Cosmos's cache folder
    (AIRFLOW__COSMOS__CACHE_DIR/<dag>__<group>/target/partial_parse.msgpack): each task copies it
    into its temporary project and writes it back. Only a DAG run's first dbt task parses the whole
    project (the render's `dbt ls` ran without the run's vars, so dbt rejects its file); measured in
    `make demo` on 2 cores: dbt itself ~1 s per task, ~3 s per task with Airflow's overhead.
    Staging models of the other formats stay in the graph on purpose: the intermediate models union
    every format, and those models are empty views over `source_or_empty` (~0.3 s each)."""
    project = dbt_project_dir()
    select = [item for item in os.environ.get("CLINIC2ZOHO_DBT_SELECT", "").split() if item]
    env = {**TELEMETRY_ENV, "CLINIC2ZOHO_WAREHOUSE": str(settings.warehouse_path())}
    xcom = f"ti.xcom_pull(task_ids='{vars_from}')"
    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(dbt_project_path=project, env_vars=env, install_dbt_deps=False,
                                     partial_parse=True),
        profile_config=ProfileConfig(profile_name="clinic2zoho", target_name="local",
                                     profiles_yml_filepath=project / "profiles.yml"),
        # dbt in the task's own process (no interpreter start per model: the tasks are many and
        # short). A test over several models (relationships, pick-list values) runs as its own
        # task once all of them are built; each model's build leaves it out.
        execution_config=ExecutionConfig(invocation_mode=InvocationMode.DBT_RUNNER),
        render_config=RenderConfig(load_method=LoadMode.DBT_LS, test_behavior=TestBehavior.BUILD, select=select,
                                   invocation_mode=InvocationMode.SUBPROCESS, dbt_executable_path=dbt_executable(),
                                   should_detach_multiple_parents_tests=True),
        operator_args={
            "pool": WAREHOUSE_POOL,
            "callback": release_warehouse,
            "vars": {key: "{{ " + xcom + "['" + key + "'] }}"
                     for key in ("clinic_timezone", "provider_email_overrides_file", "patient_merges_file")},
        },
    )


def render_time_plan(group: DbtTaskGroup) -> LoadPlan:
    """The modules to load and their order, from the models Cosmos rendered (their meta)."""
    nodes = [{"name": n.name, "config": n.config} for n in group.dbt_graph.filtered_nodes.values()
             if str(n.resource_type.value if hasattr(n.resource_type, "value") else n.resource_type) == "model"]
    return plan_from_nodes(nodes)


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
