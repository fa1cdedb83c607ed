"""Fails the DAG run at once when the mapping is not confirmed as it is now (it never waits)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow.exceptions import AirflowFailException
from airflow.models import BaseOperator


class MappingGateOperator(BaseOperator):
    """Put before every task that writes to Zoho. `dbt_project_dir` defaults to the project's
    (or `CLINIC2ZOHO_DBT_PROJECT`). Fails without retry, with the gate's message saying what
    changed since confirmation and how to reconfirm."""

    template_fields = ("dbt_project_dir",)

    def __init__(self, *, dbt_project_dir: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("retries", 0)
        super().__init__(**kwargs)
        self.dbt_project_dir = dbt_project_dir

    def execute(self, context: Any) -> dict[str, str]:
        from clinic2zoho.mapping.gate import MappingNotConfirmed, require_confirmed

        try:
            record = require_confirmed(Path(self.dbt_project_dir) if self.dbt_project_dir else None,
                                       task=f"the DAG {self.dag_id}")
        except MappingNotConfirmed as exc:
            raise AirflowFailException(str(exc)) from exc
        self.log.info("mapping confirmed by %s at %s (hash %s)", record.confirmed_by, record.confirmed_at, record.hash[:12])
        return {"confirmed_by": record.confirmed_by, "confirmed_at": record.confirmed_at, "hash": record.hash}
