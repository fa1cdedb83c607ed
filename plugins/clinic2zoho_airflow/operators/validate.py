"""Validation of a load run and the sample migration's field-level diff, against the org of a
Zoho Connection. Reports go to the reports folder; XCom gets counts and paths only."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow.sdk.exceptions import AirflowFailException
from airflow.sdk import BaseOperator

from clinic2zoho_airflow.hooks.zoho import ZohoHook
from clinic2zoho_airflow.operators.zoho_load import journal_run_id


class _RunReportOperator(BaseOperator):
    template_fields: Sequence[str] = ("load_run_id", "zoho_conn_id", "warehouse", "journal_dir", "reports_dir")

    def __init__(self, *, load_run_id: str = "{{ run_id }}", zoho_conn_id: str = "zoho_default",
                 warehouse: str | None = None, journal_dir: str | None = None, reports_dir: str | None = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("retries", 0)  # a failed check is a finding, not a glitch
        super().__init__(**kwargs)
        if not zoho_conn_id:
            raise ValueError(f"{self.task_id}: zoho_conn_id must name a Connection")
        self.load_run_id, self.zoho_conn_id = load_run_id, zoho_conn_id
        self.warehouse, self.journal_dir, self.reports_dir = warehouse, journal_dir, reports_dir

    def _paths(self) -> dict[str, Path | None]:
        from clinic2zoho import settings

        return {"warehouse": Path(self.warehouse) if self.warehouse else settings.warehouse_path(),
                "journal_root": settings.journal_root(self.journal_dir),
                "reports_dir": Path(self.reports_dir) if self.reports_dir else None}


class ZohoValidateOperator(_RunReportOperator):
    """Reconciliation, a seeded spot check of `spot_share` of the loaded records read back from
    Zoho, and related-list integrity. A failure fails the run and names the rollback command."""

    template_fields: Sequence[str] = (*_RunReportOperator.template_fields, "spot_share")

    def __init__(self, *, spot_share: float | str = 0.05, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spot_share, self.seed = spot_share, seed

    def execute(self, context: Any) -> dict[str, Any]:
        from clinic2zoho.reports import validate_run

        run_id = journal_run_id(self.load_run_id)
        client = ZohoHook(self.zoho_conn_id).get_conn()
        try:
            result = validate_run(run_id, client, spot_share=float(self.spot_share), seed=self.seed,
                                  on_step=self.log.info, **self._paths())
        finally:
            client.close()
        self.log.info("validation report: %s", result.html_path)
        if not result.ok:
            for problem in result.problems:  # record ids and field names only
                self.log.error("%s", problem)
            raise AirflowFailException(
                f"validation of run {run_id} failed ({len(result.problems)} problem(s); report {result.html_path}). "
                f"Undo the load with: {result.rollback_command} (or trigger the DAG clinic_rollback with "
                f"run_id={run_id})")
        return {"run_id": run_id, "ok": True, "json": str(result.json_path), "html": str(result.html_path),
                "spot_checked": sum(result.spot_sample.values())}


class ZohoSampleDiffOperator(_RunReportOperator):
    """Every mapped field of every record of the run read back from Zoho and compared with the
    expected value from the dbt tables: reports/sample_diff.html and .csv, mismatches first, and
    sample_diff.json (the run, the diff's hash, the mapping hash the sample passed its gate with),
    which `clinic2zoho sign-off` refers to. Mismatches are findings for the admin's review, so the
    task does not fail on them by default: the cutover stops instead until the sample is signed off,
    and a diff with mismatches is signed off only explicitly (clinic2zoho.orchestration.signoff).
    `fail_on_mismatch=True` also fails the task."""

    def __init__(self, *, fail_on_mismatch: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fail_on_mismatch = fail_on_mismatch

    def execute(self, context: Any) -> dict[str, Any]:
        from clinic2zoho.reports import sample_diff

        run_id = journal_run_id(self.load_run_id)
        client = ZohoHook(self.zoho_conn_id).get_conn()
        try:
            diff = sample_diff(run_id, client, on_step=self.log.info, **self._paths())
        finally:
            client.close()
        mismatches = len(diff.mismatches)
        compared = len(diff.rows)
        record_diff(run_id, diff, context)
        self.log.info("sample diff: %s field(s) of %s record(s) compared, %s mismatch(es); %s, %s", compared,
                      sum(diff.records.values()), mismatches, diff.html_path, diff.csv_path)
        if mismatches and self.fail_on_mismatch:
            raise AirflowFailException(f"sample diff of run {run_id}: {mismatches} mismatch(es); see {diff.html_path}")
        return {"run_id": run_id, "fields": compared, "records": sum(diff.records.values()), "mismatches": mismatches,
                "html": str(diff.html_path), "csv": str(diff.csv_path)}


def record_diff(run_id: str, diff: Any, context: Any) -> None:
    """sample_diff.json beside the diff, with the confirmation hash this run's mapping_gate passed."""
    from clinic2zoho.mapping.confirmation import read_confirmation
    from clinic2zoho.mapping.files import dbt_project_dir
    from clinic2zoho.orchestration.signoff import record_sample_diff

    gate = context["ti"].xcom_pull(task_ids="mapping_gate") or {}
    mapping_hash = gate.get("hash") or getattr(read_confirmation(dbt_project_dir()), "hash", "")
    record_sample_diff(run_id, diff.csv_path, fields=diff.summary()["fields"], mismatches=len(diff.mismatches),
                       mapping_hash=mapping_hash)
