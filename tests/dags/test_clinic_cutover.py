"""The cutover DAG end to end with `dag.test()`: a failing dbt test (the gate) fails the run and
leaves every task after the dbt group unrun."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dag_clinic_cutover")]


def load_dag(monkeypatch, select: str):
    """Parse dags/clinic_cutover.py afresh (it reads the warehouse path and selection at parse)."""
    monkeypatch.setenv("CLINIC2ZOHO_DBT_SELECT", select)
    spec = importlib.util.spec_from_file_location("clinic_cutover_under_test", ROOT / "dags" / "clinic_cutover.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module.dag


def test_a_failing_dbt_test_fails_the_run_and_nothing_after_the_group_runs(
    work_home: Path, synthea_dir: Path, monkeypatch
):
    from airflow.utils.state import DagRunState, TaskInstanceState

    warehouse = work_home / "warehouse.duckdb"
    with open(synthea_dir / "organizations.csv", encoding="utf-8") as fh:
        org_id = fh.readlines()[1].split(",")[0]
    # a FHIR export landed earlier names an organization with the same id as a Synthea one:
    # the Accounts external id is duplicated, and the gate must stop the run
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.fhir__organization (id varchar, resource varchar, _source_file varchar,"
            " _source_row bigint, _batch_id varchar, _loaded_at timestamptz, _row_hash ubigint)"
        )
        con.execute(
            "insert into raw.fhir__organization values (?, ?, 'Organization.000.ndjson', 1, 'earlier', now(), 1)",
            [org_id, f'{{"resourceType": "Organization", "id": "{org_id}", "name": "DUPLICATE"}}'],
        )

    dag = load_dag(monkeypatch, "+zoho_accounts")
    group_tasks = {t.task_id for t in dag.tasks if t.task_id.startswith("dbt_mapping.")}
    assert "dbt_mapping.int_clinics_run" in group_tasks or any("int_clinics" in t for t in group_tasks)

    run = dag.test(run_conf={"source": str(synthea_dir), "format": "synthea"})

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == DagRunState.FAILED
    assert states["land"] == TaskInstanceState.SUCCESS
    int_clinics = next(task_id for task_id in states if "int_clinics" in task_id)
    assert states[int_clinics] == TaskInstanceState.FAILED  # its unique test failed
    staging = [task_id for task_id in states if "stg_synthea__organizations" in task_id]
    assert staging and all(states[task_id] == TaskInstanceState.SUCCESS for task_id in staging)
    accounts = next(task_id for task_id in states if "zoho_accounts" in task_id)
    assert states[accounts] == TaskInstanceState.UPSTREAM_FAILED
    assert states["mapping_ready"] == TaskInstanceState.UPSTREAM_FAILED
