"""Airflow operators over the loader (`clinic2zoho.loader`): load one module (or several) into the
org of a Zoho Connection, and publish a run's journal and report once its load tasks are done.

The load operator checks its arguments in the constructor, so a bad DAG fails at parse time, and
only delegates. With `deferrable=True`, a bulk job is started and journaled, then the task defers
to `ZohoBulkJobTrigger` and frees its worker slot; when the trigger fires, the task runs the module
again, which re-attaches to the job through the journal and takes its results. A retry of the task
does the same: it never starts a second job for rows a running job holds."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from clinic2zoho.zoho.facts import ATTACHMENT_MAX_BYTES
from clinic2zoho_airflow.hooks.zoho import ZohoHook
from clinic2zoho_airflow.triggers.zoho_bulk_job import ZohoBulkJobTrigger
from clinic2zoho.loader.journal import safe_run_id

PATHS = (None, "record", "bulk")


def journal_run_id(value: str) -> str:
    """Airflow run ids hold ':' and '+'; the journal keeps letters, digits, '_', '.', '-'."""
    return safe_run_id(value)


class ZohoLoadOperator(BaseOperator):
    """Load `modules` of the plan (from dbt's manifest, or a plan JSON) into Zoho, journaled.

    load_run_id: the journal's run id (templated; default: the DAG run's id), so every task of a
    DAG run writes the same run and a rerun resumes it."""

    template_fields: Sequence[str] = ("load_run_id", "manifest_path", "plan_path", "warehouse", "journal_dir")
    ui_color = "#d4e8ff"

    def __init__(self, *, modules: str | Sequence[str], zoho_conn_id: str = "zoho_default",
                 load_run_id: str = "{{ run_id }}", manifest_path: str | None = None, plan_path: str | None = None,
                 warehouse: str | None = None, journal_dir: str | None = None, force_path: str | None = None,
                 files_root: str | None = None, attachment_max_bytes: int = ATTACHMENT_MAX_BYTES,
                 record_concurrency: int | None = None, check_mapping: bool = True, deferrable: bool = False,
                 poll_interval: float = 10.0, bulk_timeout: float = 3600.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        mods = [modules] if isinstance(modules, str) else list(modules)
        if not mods or not all(isinstance(m, str) and m for m in mods):
            raise ValueError(f"{self.task_id}: modules must name one or more Zoho modules, got {modules!r}")
        if not zoho_conn_id or not isinstance(zoho_conn_id, str):
            raise ValueError(f"{self.task_id}: zoho_conn_id must be a Connection id")
        if force_path not in PATHS:
            raise ValueError(f"{self.task_id}: force_path must be one of {PATHS}, got {force_path!r}")
        if manifest_path and plan_path:
            raise ValueError(f"{self.task_id}: give manifest_path or plan_path, not both")
        if poll_interval <= 0 or bulk_timeout <= 0:
            raise ValueError(f"{self.task_id}: poll_interval and bulk_timeout must be positive")
        if record_concurrency is not None and record_concurrency < 1:
            raise ValueError(f"{self.task_id}: record_concurrency must be at least 1")
        self.modules = mods
        self.zoho_conn_id = zoho_conn_id
        self.load_run_id = load_run_id
        self.manifest_path = manifest_path
        self.plan_path = plan_path
        self.warehouse = warehouse
        self.journal_dir = journal_dir
        self.force_path = force_path
        self.files_root = files_root
        self.attachment_max_bytes = attachment_max_bytes
        self.record_concurrency = record_concurrency
        self.check_mapping = check_mapping
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.bulk_timeout = bulk_timeout

    # ------------------------------------------------------------------ plumbing
    def _gate(self):
        if not self.check_mapping:
            return None
        from clinic2zoho.mapping.gate import require_confirmed

        return lambda: require_confirmed(task=f"task {self.task_id}")

    def _load(self) -> dict:
        """Run the loader for this task's modules; raises BulkJobStarted in deferrable mode."""
        from clinic2zoho.loader import service

        hook = ZohoHook(self.zoho_conn_id)
        config = hook.config
        run_id = journal_run_id(self.load_run_id)
        load_settings = service.LoadSettings(
            record_concurrency=self.record_concurrency or min(hook.pool_slots(), 10), force_path=self.force_path,
            files_root=Path(self.files_root) if self.files_root else None,
            attachment_max_bytes=self.attachment_max_bytes, defer_bulk=self.deferrable,
            bulk_timeout=self.bulk_timeout, poll_max=self.poll_interval)
        try:
            result = service.load(service.LoadRequest(
                plan=service.read_plan(self.plan_path, self.manifest_path), run_id=run_id, config=config,
                modules=self.modules, journal_root=self.journal_dir, warehouse=self.warehouse,
                settings=load_settings, gate=self._gate()))
        except service.REFUSED as exc:  # another org than the run's own, or layout-mandatory fields
            raise AirflowFailException(str(exc)) from None  # left empty: no retry changes either
        except service.LoadStopped as exc:
            message = exc.message(conn_id=self.zoho_conn_id,
                                  resume="Retry the task (or rerun the DAG run): it resumes with the same run id")
            if service.stopped_for_good(exc):
                raise AirflowFailException(message) from None  # no retry meets other credentials
            raise AirflowException(message) from None
        if result.pending:
            raise AirflowException(f"{result.pending} row(s) of {self.modules} are still pending in run {run_id}; "
                                   "retry the task to resume")
        summary = service.loaded_counts(result)
        self.log.info("run %s loaded %s", run_id, summary)
        return {"run_id": run_id, "modules": summary}  # counts only: no payload in XCom

    def _load_or_defer(self) -> dict | None:
        from clinic2zoho.loader.module_loader import BulkJobStarted

        try:
            return self._load()
        except BulkJobStarted as exc:
            started = exc
        self.log.info("bulk job %s of %s is running; deferring", started.job_id, started.module)
        self.defer(
            trigger=ZohoBulkJobTrigger(job_id=started.job_id, module=started.module,
                                       end_time=time.time() + self.bulk_timeout, zoho_conn_id=self.zoho_conn_id,
                                       poll_interval=self.poll_interval),
            method_name="execute_complete")
        return None  # not reached: defer raises

    # ------------------------------------------------------------------ Airflow entry points
    def execute(self, context: Any) -> dict | None:
        return self._load_or_defer()

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict | None:
        status = event.get("status")
        if status in ("error", "timeout"):
            raise AirflowException(f"{event.get('message')} (job {event.get('job_id')}, module {event.get('module')})")
        # COMPLETED, FAILED or SKIPPED: running the module again takes the job's results through the
        # journal (failed rows are sent again, in a new job or by record calls).
        self.log.info("bulk job %s of %s ended %s", event.get("job_id"), event.get("module"), status)
        return self._load_or_defer()


class ZohoLoadReportOperator(BaseOperator):
    """After a run's load tasks: copy its journal, rejects and audit log into the warehouse's
    `ops` schema (the single writer there) and write the run report."""

    template_fields: Sequence[str] = ("load_run_id", "warehouse", "journal_dir")

    def __init__(self, *, load_run_id: str = "{{ run_id }}", warehouse: str | None = None,
                 journal_dir: str | None = None, fail_on_pending: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.load_run_id = load_run_id
        self.warehouse = warehouse
        self.journal_dir = journal_dir
        self.fail_on_pending = fail_on_pending

    def execute(self, context: Any) -> dict:
        from clinic2zoho.loader import service

        run_id = journal_run_id(self.load_run_id)
        report = service.publish_and_report(run_id, journal_root=self.journal_dir, warehouse=self.warehouse)
        if report.pending and self.fail_on_pending:
            raise AirflowException(f"run {run_id}: {report.pending} row(s) pending; rerun the load tasks to resume")
        credits = report.summary["credits_spent"]
        self.log.info("run %s: %s credits; report %s", run_id, credits, report.path)
        return {"run_id": run_id, "credits": credits, "report": str(report.path)}
