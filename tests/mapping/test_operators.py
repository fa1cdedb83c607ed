"""The Airflow adapters: the gate operator fails the task (no retry) when the mapping changed."""

from __future__ import annotations

import pytest


def test_gate_operator_fails_without_waiting_when_unconfirmed(dbt_copy, work_home):
    from airflow.sdk.exceptions import AirflowFailException

    from clinic2zoho.mapping import confirmation
    from clinic2zoho_airflow.operators.mapping_gate import MappingGateOperator

    (dbt_copy / "mapping").mkdir()
    (dbt_copy / "mapping" / "generic.yml").write_text("format: generic\nproposed_at: x\nentities: []\n")
    op = MappingGateOperator(task_id="mapping_gate", dbt_project_dir=str(dbt_copy))
    assert op.retries == 0
    with pytest.raises(AirflowFailException, match="never confirmed"):
        op.execute({})
    confirmation.confirm("ops", dbt_copy)
    assert op.execute({})["confirmed_by"] == "ops"
    (dbt_copy / "mapping" / "generic.yml").write_text("format: generic\nproposed_at: y\nentities: []\n")
    with pytest.raises(AirflowFailException, match="changed: mapping/generic.yml"):
        op.execute({})


def test_schema_operator_checks_its_arguments_at_parse_time():
    from clinic2zoho_airflow.operators.zoho_schema import ZohoSchemaOperator

    assert ZohoSchemaOperator(task_id="prepare").zoho_conn_id == "zoho_default"
    with pytest.raises(ValueError, match="unknown source format"):
        ZohoSchemaOperator(task_id="prepare", formats=["csv"])
