"""The dbt tasks' vars come from the `land` task's XCom, pulled once per task instance: each pull
is a call to Airflow's execution API, and every dbt task renders eight vars."""

from __future__ import annotations

from dataclasses import dataclass, field

from clinic2zoho_airflow.operators.clinic_tasks import dbt_run_var


@dataclass
class FakeTaskInstance:
    task_id: str
    run_id: str = "manual__1"
    dag_id: str = "clinic_cutover"
    map_index: int = -1
    try_number: int = 1
    xcoms: dict = field(default_factory=dict)
    pulls: list = field(default_factory=list)

    def xcom_pull(self, task_ids: str):
        self.pulls.append(task_ids)
        return self.xcoms[task_ids]


def test_one_pull_per_task_instance_and_each_instance_reads_its_own_run():
    land = {"clinic_timezone": "Europe/Berlin", "document_url_base": "", "patient_merges_file": "/m.csv"}
    first = FakeTaskInstance("dbt_mapping.zoho_contacts_run", xcoms={"land": land})
    assert [dbt_run_var(first, "land", k) for k in land] == list(land.values())
    assert first.pulls == ["land"]

    retried = FakeTaskInstance("dbt_mapping.zoho_contacts_run", try_number=2,
                               xcoms={"land": {**land, "clinic_timezone": "Europe/Paris"}})
    assert dbt_run_var(retried, "land", "clinic_timezone") == "Europe/Paris"  # a new try pulls again
    other_run = FakeTaskInstance("dbt_mapping.zoho_contacts_run", run_id="manual__2",
                                 xcoms={"land": {**land, "clinic_timezone": "UTC"}})
    assert dbt_run_var(other_run, "land", "clinic_timezone") == "UTC"
    assert retried.pulls == ["land"] and other_run.pulls == ["land"]
