"""The group's build hands Airflow's XCom only what a watching task reads: a watched model's status
and compiled SQL. The lines of the nodes no task watches (the tests, whose outcomes the gate task
reads from the build's results; the seeds; the other formats' staging models) are only logged.
The lines are dbt's JSON log lines as the build prints them (`--log-format json`)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from cosmos.config import ProfileConfig
from cosmos.operators.watcher import DbtProducerWatcherOperator

from clinic2zoho_airflow.operators.dbt_gate import build_with_tests
from tests.plugins.test_dbt_watch import PROJECT

WATCHED = "model.clinic2zoho.zoho_contacts"
UNWATCHED = "model.clinic2zoho.stg_fhir__patient"
TEST = "test.clinic2zoho.not_null_zoho_contacts_Last_Name.5f2b9c1e2a"


@dataclass
class TaskInstancePushes:
    """The build's task instance: what it pushed to XCom, by key."""

    pushed: dict = field(default_factory=dict)

    def xcom_push(self, key, value):
        self.pushed[key] = value

    def xcom_pull(self, task_ids=None, key="return_value"):
        return self.pushed.get(key)


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
    producer = DbtProducerWatcherOperator(
        project_dir=str(PROJECT), emit_datasets=False,
        profile_config=ProfileConfig(profile_name="clinic2zoho", target_name="local",
                                     profiles_yml_filepath=PROJECT / "profiles.yml"))
    build_with_tests(producer, watched={WATCHED})
    compiled = tmp_path / "target" / "compiled" / "clinic2zoho" / "models"
    for path in ("zoho/zoho_contacts.sql", "staging/fhir/stg_fhir__patient.sql"):
        (compiled / path).parent.mkdir(parents=True, exist_ok=True)
        (compiled / path).write_text(f"select 1 as compiled -- {path}\n")
    ti = TaskInstancePushes()
    parse = producer._make_parse_callable()
    lines = [finished(WATCHED, "model", "zoho/zoho_contacts.sql", "1 of 3 OK created sql table model zoho.zoho_contacts"),
             finished(UNWATCHED, "model", "staging/fhir/stg_fhir__patient.sql", "2 of 3 OK created sql view model stg_fhir__patient"),
             finished(TEST, "test", "not_null_zoho_contacts_Last_Name.sql", "3 of 3 PASS not_null_zoho_contacts_Last_Name")]
    with caplog.at_level(logging.INFO):
        for line in lines:
            parse(line, {"context": {"ti": ti}, "project_dir": str(tmp_path)})

    assert ti.pushed["model__clinic2zoho__zoho_contacts_status"]["status"] == "success"
    assert "zoho/zoho_contacts.sql" in ti.pushed["model__clinic2zoho__zoho_contacts_compiled_sql"]
    assert not [key for key in ti.pushed if "stg_fhir__patient" in key or "not_null" in key], sorted(ti.pushed)
    for message in ("OK created sql table model zoho.zoho_contacts", "OK created sql view model stg_fhir__patient",
                    "PASS not_null_zoho_contacts_Last_Name"):
        assert message in caplog.text
