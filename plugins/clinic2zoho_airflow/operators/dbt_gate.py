"""The dbt group's gate: its tests run inside the group's one `dbt build`, among the models, as
warnings (so a failing test skips nothing after it), and the gate task decides the gate from the
build's results (clinic2zoho.transform.build_gate): it fails naming every test that stops the load,
and nothing after the group runs. A separate `dbt test` after the build cost a second dbt start,
parse and pass over the warehouse (about 7 s of the demo's 22 s dbt group)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from clinic2zoho.transform.build_gate import gate_message, read_test_outcomes, summary
from clinic2zoho_airflow.operators.dbt_background import running_here

log = logging.getLogger(__name__)

OUTCOMES_KEY = "dbt_test_outcomes"  # the build's XCom the gate task reads
GATE_TASK_ID = "dbt_project_test"


def build_with_tests(producer: Any) -> None:
    """The watcher's producer builds the tests too, as warnings (the group's vars set
    `tests_warn_only` for each of its dbt tasks: operators.clinic_tasks): Cosmos's
    `--resource-type` filter (seeds and models only) is dropped; a test is built when every model
    it reads is (cautious), so a narrowed render never tests a table it did not build; its
    results go to the gate task (its lines are only logged: operators.dbt_watch,
    only_watched_nodes_to_xcom)."""
    flags, kept = list(producer.dbt_cmd_flags or []), []
    while flags:
        flag = flags.pop(0)
        if flag == "--resource-type" and flags:
            flags.pop(0)
            continue
        kept.append(flag)
    producer.dbt_cmd_flags = kept
    producer.indirect_selection = "cautious"
    callbacks = producer.callback if isinstance(producer.callback, list) else [producer.callback] if producer.callback else []
    producer.callback = [*callbacks, keep_test_outcomes]


def keep_test_outcomes(project_dir: str, context: Any = None, **_: Any) -> None:
    """Producer callback: the tests' outcomes of the build (its run_results.json and manifest.json
    in the temporary copy Cosmos ran it in; a passing test's stored rows counted in the warehouse,
    which the build, in the warehouse pool, still has to itself) to the XCom the gate task reads."""
    from clinic2zoho import settings

    target = Path(project_dir) / "target"
    if context is None or not (target / "run_results.json").is_file():
        return
    outcomes = read_test_outcomes(target, settings.warehouse_path())
    context["ti"].xcom_push(key=OUTCOMES_KEY, value=summary(outcomes))


class DbtGateOperator(BaseOperator):
    """Fails when a test of the group's build stops the gate, listing every one; logs the warnings.
    Where the build ran beside the watching tasks, waits for its end first and fails when it failed."""

    ui_color = "#f4d06f"

    def __init__(self, *, producer_task_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.producer_task_id = producer_task_id

    def execute(self, context: Any) -> dict[str, Any]:
        build = running_here(context["ti"], self.producer_task_id)
        if build is not None:  # the build ran beside the watching tasks (operators.dbt_background)
            build.finish()
            log.info("the dbt build took %.1f s beside the group's watching tasks", build.seconds or 0.0)
            if build.error is not None:
                message = f"the dbt build ({self.producer_task_id}) failed: {build.error}"
                raise AirflowFailException(message) from build.error
        found = context["ti"].xcom_pull(task_ids=self.producer_task_id, key=OUTCOMES_KEY)
        if not found:
            raise AirflowFailException(f"the dbt build ({self.producer_task_id}) recorded no test results: "
                                       "run it again before loading")
        for warning in found.get("warnings", []):
            log.warning("dbt test warning: %s (%s): %s row(s)", warning["name"], warning["path"], warning["failures"])
        message = gate_message(found)
        if message:
            raise AirflowFailException(message)
        log.info("the dbt gate passed: %d tests, %d warning(s)", found.get("tests", 0), len(found.get("warnings", [])))
        passed = {"tests": int(found.get("tests", 0)), "warnings": len(found.get("warnings", []))}
        # the build's own time where it ran beside the watching tasks (bench/orchestration.py reads it)
        return passed if build is None else {**passed, "build_seconds": round(build.seconds or 0.0, 3)}
