"""Prepares the Zoho schema (custom modules, fields, pick-list values, design records) from the
confirmed mapping; records what it created in ops.schema_changes under the DAG run's id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException


class ZohoSchemaOperator(BaseOperator):
    template_fields = ("run_id_override", "dbt_project_dir", "warehouse")

    def __init__(self, *, zoho_conn_id: str = "zoho_default", dry_run: bool = False, formats: list[str] | None = None,
                 dbt_project_dir: str | None = None, warehouse: str | None = None, run_id_override: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not zoho_conn_id:
            raise ValueError("zoho_conn_id must name an Airflow connection")
        if formats:
            from clinic2zoho.mapping.files import FORMATS

            unknown = [f for f in formats if f not in FORMATS]
            if unknown:
                raise ValueError(f"unknown source format(s) {unknown}; expected some of {list(FORMATS)}")
        self.zoho_conn_id, self.dry_run, self.formats = zoho_conn_id, dry_run, formats
        self.dbt_project_dir, self.warehouse, self.run_id_override = dbt_project_dir, warehouse, run_id_override

    def execute(self, context: Any) -> dict[str, Any]:
        from clinic2zoho import settings
        from clinic2zoho.loader.service import audited_client
        from clinic2zoho.mapping.gate import MappingNotConfirmed
        from clinic2zoho.mapping.schema import SchemaConflict
        from clinic2zoho.mapping.schema_command import prepare_schema
        from clinic2zoho_airflow.hooks.zoho import ZohoHook
        from clinic2zoho_airflow.operators.zoho_load import journal_run_id

        run_id = self.run_id_override or context["run_id"]
        # audited under the run's journal id, beside the load's calls (published with them)
        try:
            with audited_client(ZohoHook(self.zoho_conn_id).config, settings.journal_root(), journal_run_id(run_id),
                                audit=not self.dry_run) as client:
                plan = prepare_schema(client, Path(self.dbt_project_dir) if self.dbt_project_dir else None,
                                      self.formats, self.dry_run, run_id,
                                      Path(self.warehouse) if self.warehouse else None, log=self.log.info)
        except (MappingNotConfirmed, SchemaConflict) as exc:  # a person must act: retrying cannot help
            raise AirflowFailException(str(exc)) from exc
        return {"run_id": run_id, "changes": len(plan.steps), "dry_run": self.dry_run, "notes": plan.notes}
