"""How `clinic2zoho migrate` reads a DAG run's outcome: the task states the project's listener wrote
(tests/plugins/test_dag_runs_listener) or, without its line, Airflow's CLI prints (`airflow tasks
states-for-dag-run -o json`), and the failed task's message from the line the project's listener
wrote for it in the work folder's task_failures.jsonl (tests/plugins/test_task_failures_listener
writes them), else from its failure event in the `airflow dags test` log (the lines below are as
Airflow 3 writes them). The real run is exercised by test_log_secrets, test_dag_runs_listener, the
failing-gate cutover tests and the demo test."""

from __future__ import annotations

import json

from clinic2zoho.orchestration.local_airflow import DagOutcome, _states, failure_reason, task_failures_file

LOG = """\
2026-12-05T09:11:30.553729Z [info     ] [DAG TEST] starting task_id=load map_index=0 [airflow.sdk.definitions.dag] loc=dag.py:1501
2026-12-05T09:11:35.758306Z [error    ] Task failed with exception     [task] loc=task_runner.py:1676
Traceback (most recent call last):
  File "/x/task_runner.py", line 1579, in _run_task_and_map_outcome
    result = _execute_task(context=context, ti=ti, log=log)
RuntimeError: a retried attempt
2026-12-05T09:11:35.731903Z [info     ] [DAG TEST] end task task_id=load map_index=0 [airflow.sdk.definitions.dag] loc=dag.py:1563
2026-12-05T09:11:35.732092Z [info     ] [DAG TEST] starting task_id=gate map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1501
2026-12-05T09:11:40.775478Z [error    ] Task failed with exception     [task] loc=task_runner.py:1676
Traceback (most recent call last):
  File "/x/mapping_gate.py", line 37, in execute
    require_confirmed(dbt_dir)
clinic2zoho.mapping.confirmation.MappingNotConfirmed: never confirmed

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/x/mapping_gate.py", line 39, in execute
    raise AirflowFailException(str(exc)) from exc
airflow.sdk.exceptions.AirflowFailException: clinic_cutover writes to Zoho, but the mapping was never confirmed
second line
2026-12-05T09:11:40.882308Z [info     ] [DAG TEST] end task task_id=gate map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1563
DagRun failed
"""


def test_task_states_name_a_mapped_instance_by_its_index():
    rows = [{"task_id": "gate", "state": "failed", "map_index": ""},
            {"task_id": "load", "state": "success", "map_index": "0"},
            {"task_id": "load", "state": None, "map_index": "1"}]
    assert _states(rows) == {"gate": "failed", "load[0]": "success", "load[1]": "none"}
    assert _states([{"task_id": "only", "state": "running"}]) == {"only": "running"}  # no mapped task: no key


def test_the_reason_is_the_failed_tasks_last_exception(tmp_path):
    log = tmp_path / "clinic_cutover.log"
    log.write_text(LOG)
    outcome = DagOutcome("clinic_cutover", "manual__1", "failed", {"gate": "failed", "load[0]": "success"}, 1.0, log)
    assert failure_reason(outcome) == "clinic_cutover writes to Zoho, but the mapping was never confirmed"


def test_above_info_no_task_is_named_and_the_last_failure_event_speaks(tmp_path):
    log = tmp_path / "clinic_cutover.log"
    log.write_text("\n".join(line for line in LOG.splitlines() if "[info" not in line))
    outcome = DagOutcome("clinic_cutover", "manual__1", "failed", {"gate": "failed"}, 1.0, log)
    assert failure_reason(outcome) == "clinic_cutover writes to Zoho, but the mapping was never confirmed"
    assert failure_reason(DagOutcome("d", "r", "failed", {}, 0.0, None)) == ""


def _record(path, run_id, task_id, message, map_index=-1, dag_id="clinic_cutover"):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(json.dumps({"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": map_index,
                              "error_type": "RuntimeError", "message": message}) + "\n")


def test_the_listeners_line_for_the_run_and_failed_task_is_the_reason(tmp_path):
    log = tmp_path / "logs" / "clinic_cutover.log"
    failures = task_failures_file(tmp_path)
    _record(failures, "manual__0", "gate", "an earlier run's")
    _record(failures, "manual__1", "load", "a retried attempt", map_index=0)  # load[0] succeeded after it
    _record(failures, "manual__1", "gate", "a retried attempt of the gate")
    _record(failures, "manual__1", "gate", "never confirmed", dag_id="clinic_sample_migration")
    with failures.open("a") as out:
        out.write('{"dag_id": "clinic_cut\n')  # a line cut short
    _record(failures, "manual__1", "gate", "the mapping was never confirmed")  # its last attempt
    _record(failures, "manual__1", "validate", "validation failed")
    log.write_text(LOG)
    outcome = DagOutcome("clinic_cutover", "manual__1", "failed",
                         {"gate": "failed", "load[0]": "success", "validate": "failed"}, 1.0, log, failures)
    assert failure_reason(outcome) == "the mapping was never confirmed"
    mapped = DagOutcome("clinic_cutover", "manual__1", "failed", {"load[0]": "failed"}, 1.0, None, failures)
    assert failure_reason(mapped) == "a retried attempt"


def test_a_failed_task_without_a_line_is_read_from_the_log(tmp_path):
    """A task `dags test` could not start fails without its runner calling the listener."""
    log = tmp_path / "clinic_cutover.log"
    log.write_text(LOG)
    failures = task_failures_file(tmp_path)
    _record(failures, "manual__1", "other", "another task's")
    outcome = DagOutcome("clinic_cutover", "manual__1", "failed", {"gate": "failed"}, 1.0, log, failures)
    assert failure_reason(outcome) == "clinic_cutover writes to Zoho, but the mapping was never confirmed"
