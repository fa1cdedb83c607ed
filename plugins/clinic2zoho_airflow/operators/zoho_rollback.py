"""Airflow operator over the loader's rollback: undo a load run from its journal (no mapping gate:
rollback works from the journal, not from the current mapping). A full rollback of a cutover
closes the delta window it opened."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
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
        from clinic2zoho import settings
        from clinic2zoho.loader import journal
        from clinic2zoho.loader.rollback import Rollback, modules_left, rollback_schema
        from clinic2zoho.loader.run import open_client, write_report
        from clinic2zoho.loader.run_org import OrgMismatch

        run_id = self.load_run_id.strip()
        if not run_id:
            raise AirflowException("no run id given: trigger the DAG with param run_id")
        mods = self.modules.split(",") if isinstance(self.modules, str) else list(self.modules or [])
        mods = [m.strip() for m in mods if m and m.strip()]
        with_schema = self.schema if isinstance(self.schema, bool) else str(self.schema).lower() in ("true", "1", "yes")
        root = settings.journal_root(self.journal_dir)
        warehouse = Path(self.warehouse) if self.warehouse else settings.warehouse_path()
        audit = journal.AuditLog(root, run_id)
        client = open_client(ZohoHook(self.zoho_conn_id).config, audit)
        try:
            results = Rollback(client, run_id, root).run(mods or None)
            schema = rollback_schema(client, warehouse, run_id, root=root) if with_schema else []
        except OrgMismatch as exc:  # nothing was undone; no retry reaches the run's own org
            raise AirflowFailException(str(exc)) from None
        finally:
            client.close()
            audit.close()
        if warehouse.exists():
            journal.publish(root, warehouse, run_id)
        for r in results:
            self.log.info("%s: deleted %s, restored %s, failed %s", r["module"], r["deleted"], r["restored"], r["failed"])
        for s in schema:
            self.log.info("schema %s %s %s: %s", s["kind"], s["module"], s["field"] or "", s["outcome"])
        left = modules_left(schema)
        if left:  # Zoho's API cannot delete a custom module
            self.log.warning("custom modules left in Zoho, remove in Setup > Modules: %s", ", ".join(left))
        if with_schema:
            write_report(root, run_id)
        failed = sum(r["failed"] for r in results)
        if failed:
            raise AirflowException(f"rollback of run {run_id}: {failed} record(s) could not be undone; "
                                   "see rollback_journal, then retry the task")
        if not mods and warehouse.exists():  # no change is carried into an org the cutover was taken out of
            from clinic2zoho.delta import close_windows_of_run

            for window in close_windows_of_run(run_id, "its cutover run was rolled back", warehouse=warehouse):
                self.log.info("%s", window.describe())
        return {"run_id": run_id, "modules": results, "schema": schema, "modules_left": left}
