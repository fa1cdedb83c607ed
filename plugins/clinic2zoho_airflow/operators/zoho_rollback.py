"""Airflow operator over the loader's rollback: undo a load run from its journal (no mapping gate:
rollback works from the journal, not from the current mapping). A full rollback of a cutover
closes the delta window it opened."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from clinic2zoho_airflow.hooks.zoho import ZohoHook


class ZohoRollbackOperator(BaseOperator):
    template_fields: Sequence[str] = ("load_run_id", "modules", "schema", "warehouse", "journal_dir")
    ui_color = "#ffd9d4"

    def __init__(self, *, load_run_id: str, modules: Sequence[str] | str | None = None, schema: bool | str = False,
                 zoho_conn_id: str = "zoho_default", warehouse: str | None = None, journal_dir: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not load_run_id or not isinstance(load_run_id, str):
            raise ValueError(f"{self.task_id}: load_run_id must name the run to undo")
        if not zoho_conn_id or not isinstance(zoho_conn_id, str):
            raise ValueError(f"{self.task_id}: zoho_conn_id must be a Connection id")
        self.load_run_id = load_run_id
        self.modules = modules
        self.schema = schema
        self.zoho_conn_id = zoho_conn_id
        self.warehouse = warehouse
        self.journal_dir = journal_dir

    def execute(self, context: Any) -> dict:
        from clinic2zoho.loader import service
        from clinic2zoho.loader.run_org import OrgMismatch

        run_id = self.load_run_id.strip()
        if not run_id:
            raise AirflowException("no run id given: trigger the DAG with param run_id")
        mods = self.modules.split(",") if isinstance(self.modules, str) else list(self.modules or [])
        mods = [m.strip() for m in mods if m and m.strip()]
        with_schema = self.schema if isinstance(self.schema, bool) else str(self.schema).lower() in ("true", "1", "yes")
        try:
            done = service.rollback(service.RollbackRequest(
                run_id, ZohoHook(self.zoho_conn_id).config, modules=mods or None, schema=with_schema,
                journal_root=self.journal_dir, warehouse=self.warehouse))
        except OrgMismatch as exc:  # nothing was undone; no retry reaches the run's own org
            raise AirflowFailException(str(exc)) from None
        for r in done.modules:
            self.log.info("%s: deleted %s, restored %s, failed %s", r["module"], r["deleted"], r["restored"], r["failed"])
        for s in done.schema:
            self.log.info("schema %s %s %s: %s", s["kind"], s["module"], s["field"] or "", s["outcome"])
        if done.left:  # Zoho's API cannot delete a custom module
            self.log.warning("custom modules left in Zoho, remove in Setup > Modules: %s", ", ".join(done.left))
        if done.records_failed:
            raise AirflowException(f"rollback of run {run_id}: {done.records_failed} record(s) could not be undone; "
                                   "see rollback_journal, then retry the task")
        if not mods:  # no change is carried into an org the cutover was taken out of
            for window in service.close_cutover_windows(done):
                self.log.info("%s", window.describe())
        return {"run_id": run_id, "modules": done.modules, "schema": done.schema, "modules_left": done.left}
