"""Fails the DAG run at once when the mapping is not confirmed as it is now (it never waits), and,
for the cutover, when the sample run was not signed off with that mapping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException


class MappingGateOperator(BaseOperator):
    """Put before every task that writes to Zoho. `dbt_project_dir` defaults to the project's
    (or `CLINIC2ZOHO_DBT_PROJECT`). Fails without retry, with the gate's message saying what
    changed since confirmation and how to reconfirm. Every landed column must be accounted for
    (migrated, read by the models, or not migrated with a reason). `require_signoff` (the cutover): a sign-off
    of the sample run made with the mapping as confirmed now is required too
    (clinic2zoho.orchestration.signoff), else the run fails naming `clinic2zoho sign-off`."""

    template_fields = ("dbt_project_dir",)

    def __init__(self, *, dbt_project_dir: str | None = None, require_signoff: bool = False, **kwargs: Any) -> None:
        from clinic2zoho.cluster.pools import WAREHOUSE_POOL

        kwargs.setdefault("retries", 0)
        kwargs.setdefault("pool", WAREHOUSE_POOL)  # it reads the warehouse's landed columns
        super().__init__(**kwargs)
        self.dbt_project_dir = dbt_project_dir
        self.require_signoff = require_signoff

    def execute(self, context: Any) -> dict[str, str]:
        from clinic2zoho.mapping.gate import MappingNotConfirmed, require_confirmed

        try:
            record = require_confirmed(Path(self.dbt_project_dir) if self.dbt_project_dir else None,
                                       task=f"the DAG {self.dag_id}")
        except MappingNotConfirmed as exc:
            raise AirflowFailException(str(exc)) from exc
        self.log.info("mapping confirmed by %s at %s (hash %s)", record.confirmed_by, record.confirmed_at, record.hash[:12])
        self._columns_accounted()
        if self.require_signoff:
            from clinic2zoho import settings
            from clinic2zoho.orchestration.signoff import SampleNotSignedOff, SignOffError, require_signoff

            try:
                signed = require_signoff(settings.home(), Path(self.dbt_project_dir) if self.dbt_project_dir else None,
                                         task=f"the DAG {self.dag_id}")
            except (SampleNotSignedOff, SignOffError) as exc:
                raise AirflowFailException(str(exc)) from exc
            self.log.info("sample run %s signed off by %s at %s", signed.run, signed.by, signed.at)
        return {"confirmed_by": record.confirmed_by, "confirmed_at": record.confirmed_at, "hash": record.hash}

    def _columns_accounted(self) -> None:
        """Every landed column migrated, read by the models or not migrated with a reason
        (clinic2zoho.mapping.column_accounting): a column dropped without one stops the run here."""
        from clinic2zoho import settings
        from clinic2zoho.mapping.column_accounting import summary
        from clinic2zoho.mapping.gate import ColumnsUnaccounted, require_accounted

        warehouse = settings.warehouse_path()
        if not warehouse.is_file():
            return
        try:
            rows = require_accounted(warehouse, Path(self.dbt_project_dir) if self.dbt_project_dir else None,
                                     task=f"the DAG {self.dag_id}")
        except ColumnsUnaccounted as exc:
            raise AirflowFailException(str(exc)) from exc
        self.log.info("landed columns accounted for: %s", summary(rows))
