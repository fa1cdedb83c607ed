"""The listener that records each ended DAG run for `clinic2zoho migrate` (listeners.dag_runs): one
JSON line of ids and states in the work folder's logs/dag_runs.jsonl, which run_dag reads its run's
outcome from; Airflow's CLI is asked only when the run wrote none. The slow tests run real
`airflow dags test` children of a tiny DAG through migrate's own functions (~15 s each)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

pytest.importorskip("airflow")

from clinic2zoho.orchestration import local_airflow  # noqa: E402
from clinic2zoho.orchestration.local_airflow import (MigrateError, _recorded_run, dag_runs_file,  # noqa: E402
                                                    task_failures_file)
from clinic2zoho.orchestration.redacted_output import Redactor  # noqa: E402
from clinic2zoho_airflow.listeners import dag_runs  # noqa: E402
from clinic2zoho_airflow.listeners.task_failures import append_line  # noqa: E402

WHEN = "2026-12-05T09:11:30.553729+00:00"


def _line(dag_id="clinic_cutover", logical_date=WHEN, state="failed", run_id="manual__1"):
    return {"dag_id": dag_id, "run_id": run_id, "logical_date": logical_date, "state": state,
            "tasks": [{"task_id": "gate", "map_index": -1, "state": "failed"},
                      {"task_id": "load", "map_index": 0, "state": None}]}


def test_a_runs_line_holds_its_ids_and_states_only():
    run = SimpleNamespace(dag_id="clinic_cutover", run_id="manual__1", state="failed",
                          logical_date=datetime(2026, 12, 5, 9, 11, 30, 553729, tzinfo=timezone.utc))
    tis = [SimpleNamespace(task_id="gate", map_index=-1, state="failed"),
           SimpleNamespace(task_id="load", map_index=0, state=None)]
    assert dag_runs.run_line(run, tis) == _line()


def test_without_a_work_folder_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.delenv("CLINIC2ZOHO_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    dag_runs.on_dag_run_failed(dag_run=None, msg="task_failure")  # not even looked at
    assert list(tmp_path.iterdir()) == []


def test_run_dag_reads_the_line_of_its_dag_and_logical_date_past_its_offset(tmp_path):
    path = dag_runs_file(tmp_path)
    append_line(path, _line(state="success", run_id="an earlier run's line"))
    offset = path.stat().st_size
    append_line(path, _line(dag_id="clinic_delta", state="success"))
    append_line(path, _line(logical_date="2026-12-05T09:11:31+00:00", state="success"))
    append_line(path, _line())
    with path.open("a") as out:
        out.write('{"dag_id": "clinic_cut')  # a line cut short
    run, tasks = _recorded_run(path, offset, "clinic_cutover", "2026-12-05T09:11:30.553729Z")  # the same instant
    assert (run["run_id"], run["state"]) == ("manual__1", "failed")
    assert tasks == {"gate": "failed", "load[0]": "none"}
    assert _recorded_run(path, offset, "clinic_sample_migration", WHEN) is None
    assert _recorded_run(tmp_path / "none.jsonl", 0, "clinic_cutover", WHEN) is None


TINY_DAG = '''
import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
def tiny_run():
    @task
    def pairs():
        return [1, 2]

    @task
    def each(x):
        return x

    @task
    def gate(dag_run=None):
        if dag_run.conf.get("fail"):
            raise RuntimeError("the gate said no")

    @task
    def after():
        pass

    each.expand(x=pairs())
    gate() >> after()


tiny_run()
'''


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory):
    """A work folder with Airflow set up (db migrate, pools) and the tiny DAG as its only DAG."""
    root = tmp_path_factory.mktemp("dag_runs")
    home, dags = root / "work", root / "dags"
    (home / "logs").mkdir(parents=True)
    dags.mkdir()
    (dags / "tiny_run.py").write_text(TINY_DAG)
    env = local_airflow.airflow_env(home, "INFO", {}, "generic")
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags)
    local_airflow.init_airflow(env, home / "logs", Redactor([]))
    return home, env


class _SpyQuery(local_airflow._AirflowQuery):
    started: list[list[str]] = []

    def __init__(self, args, env):
        _SpyQuery.started.append(args)
        super().__init__(args, env)


@pytest.fixture
def queries(monkeypatch):
    _SpyQuery.started = []
    monkeypatch.setattr(local_airflow, "_AirflowQuery", _SpyQuery)
    return _SpyQuery.started


@pytest.mark.slow
@pytest.mark.parametrize("fail", [False, True], ids=["success", "failure"])
def test_a_real_dags_test_run_writes_its_line_and_run_dag_asks_no_cli(airflow_home, queries, fail):
    home, env = airflow_home
    path = dag_runs_file(home)
    before = path.read_text().splitlines() if path.is_file() else []

    outcome = local_airflow.run_dag("tiny_run", {"fail": True} if fail else {}, env, home / "logs", Redactor([]))

    [line] = [json.loads(text) for text in path.read_text().splitlines()[len(before):]]
    assert queries == []  # the outcome came from the line: no `list-runs` or `states-for-dag-run` child
    tasks = {"pairs": "success", "each[0]": "success", "each[1]": "success",
             "gate": "failed" if fail else "success", "after": "upstream_failed" if fail else "success"}
    assert (outcome.state, outcome.tasks, outcome.run_id) == ("failed" if fail else "success", tasks, line["run_id"])
    assert outcome.failed_tasks() == (["gate"] if fail else [])
    assert line["dag_id"] == "tiny_run" and line["state"] == outcome.state
    assert set(line) == {"dag_id", "run_id", "logical_date", "state", "tasks"}
    assert sorted((t["task_id"], t["map_index"], t["state"]) for t in line["tasks"]) == sorted(
        [("pairs", -1, "success"), ("each", 0, "success"), ("each", 1, "success"),
         ("gate", -1, tasks["gate"]), ("after", -1, tasks["after"])])
    if fail:  # the line says what Airflow's CLI says of the same run, and the reason is still found
        run, states = local_airflow._queried_run("tiny_run", line["logical_date"], env)
        assert (run["run_id"], run["state"], states) == (outcome.run_id, outcome.state, outcome.tasks)
        assert outcome.failures == task_failures_file(home)
        assert local_airflow.failure_reason(outcome) == "the gate said no"


@pytest.mark.slow
def test_a_run_that_wrote_no_line_is_asked_of_airflows_cli(airflow_home, queries):
    home, env = airflow_home
    with pytest.raises(MigrateError, match="no_such_dag did not start"):
        local_airflow.run_dag("no_such_dag", {}, env, home / "logs", Redactor([]))
    # asked once each: Airflow said it holds no such DAG, which asking again cannot change
    assert [args[:2] for args in queries] == [["dags", "list-runs"], ["tasks", "states-for-dag-run"]]
