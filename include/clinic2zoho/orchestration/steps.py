"""What the DAG tasks do, as plain functions over paths and plain values (no Airflow import).

Every function here that writes the warehouse must run alone on it (the DAGs put its task in the
`clinic_warehouse` pool). Return values go to XCom: counts, ids and paths only, never a record."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinic2zoho import settings
from clinic2zoho.loader import journal
from clinic2zoho.loader.estimate import PlanLimits, estimate
from clinic2zoho.loader.plan import LoadPlan, plan_from_manifest
from clinic2zoho.loader.source import TableSource

log = logging.getLogger(__name__)
FILE_VARS = ("provider_email_overrides_file", "patient_merges_file", "patient_distinct_file")
# The decisions on duplicate patients that `clinic2zoho resolve-duplicates` records in the work
# folder: used when the run names no file of its own.
DECISION_FILES = {"patient_merges_file": "patient_merges.csv", "patient_distinct_file": "patient_distinct.csv"}


def _warehouse(warehouse: Path | str | None) -> Path:
    return Path(warehouse) if warehouse else settings.warehouse_path()


def land_source(source: str, fmt: str, *, clinic_timezone: str = "", warehouse: Path | str | None = None,
                document_url_base: str = "", **file_vars: str) -> dict[str, Any]:
    """Land the export into raw.* and work out the dbt vars of the run (time zone and document base
    URL from the generic manifest unless given, a zone named by neither proposed from the landed
    patients' addresses, with its reason; the clinic's CSV inputs as absolute paths, since dbt runs
    in a copy of the project folder; the work folder's duplicate decisions unless files are given)."""
    from clinic2zoho.landing import land_export
    from clinic2zoho.mapping.timezone import proposed_timezone
    from clinic2zoho.transform.dbt_runner import export_vars

    if not source:
        raise ValueError("no source given: trigger the DAG with param source (the export folder)")
    result = land_export(source, fmt, warehouse=_warehouse(warehouse))
    found = export_vars(source, result.format)
    if clinic_timezone or found.get("clinic_timezone"):
        timezone_name = clinic_timezone or found["clinic_timezone"]
        reason = ("given by the run's clinic_timezone param" if clinic_timezone
                  else f"named by the export's {found.get('clinic_timezone_from', 'manifest')}")
    else:  # proposed from where the landed patients live (counts only in the reason)
        choice = proposed_timezone(_warehouse(warehouse), result.format)
        timezone_name, reason = choice.zone, f"proposed from the landed patients' addresses: {choice.reason}"
    log.info("clinic time zone %s: %s", timezone_name, reason)
    files = {key: str(Path(file_vars[key]).resolve()) if file_vars.get(key) else "" for key in FILE_VARS}
    for key, name in DECISION_FILES.items():
        recorded = settings.home() / "decisions" / name
        if not files[key] and recorded.is_file():
            files[key] = str(recorded)
    for key, path in files.items():
        if path and not Path(path).is_file():
            raise FileNotFoundError(f"{key}: {path} does not exist")
    return {"batch_id": result.batch_id, "rows": result.totals(), "clinic_timezone": timezone_name,
            "clinic_timezone_reason": reason,
            "document_url_base": document_url_base or found.get("document_url_base", ""), **files}


def land_org_users(users: list[dict[str, Any]] | str, org_label: str, warehouse: Path | str | None = None) -> int:
    """The org's users (read through the Zoho client, or a users file) into raw.zoho_users, so dbt
    checks every record owner against them."""
    from clinic2zoho.landing import land_users

    return land_users(users, org_label, warehouse=_warehouse(warehouse))


def quality_report(warehouse: Path | str | None = None, reports_dir: Path | None = None) -> dict[str, Any]:
    from clinic2zoho.quality import build_quality_report

    report = build_quality_report(_warehouse(warehouse), reports_dir)
    return {"paths": {k: str(v) for k, v in (report.get("paths") or {}).items()}}


def dbt_manifest(warehouse: Path | str | None = None, dbt_vars: dict[str, Any] | None = None) -> Path:
    """dbt's manifest of the project as it is now (`dbt parse` of the project the DAGs render,
    beside the warehouse): the load plan and the rules the reports cite come from it."""
    from clinic2zoho.mapping.files import dbt_project_dir
    from clinic2zoho.transform import run_dbt

    result = run_dbt(["parse"], _warehouse(warehouse), {k: v for k, v in (dbt_vars or {}).items() if v},
                     project_dir=dbt_project_dir())
    if not result.success:
        raise RuntimeError(f"dbt parse failed: {result.summary()}")
    return Path(result.target_path) / "manifest.json"


def load_manifest(warehouse: Path) -> Path:
    """dbt's manifest for the load plan, where `dbt_manifest` leaves it (beside the warehouse,
    where the reports read the models' rules): the work folder's copied there when it was parsed
    from the same project as it is now, for this warehouse (what `clinic2zoho migrate` writes
    before Airflow starts), else a fresh `dbt parse` (some 10 s on 2 cores)."""
    from clinic2zoho.mapping.files import dbt_project_dir
    from clinic2zoho.orchestration.dbt_manifest import current_manifest
    from clinic2zoho.transform.dbt_runner import target_dir

    # the project steps.dbt_manifest parses, and the warehouse the work folder's was parsed for
    parsed = current_manifest(dbt_project_dir()) if warehouse == settings.home() / "warehouse.duckdb" else None
    if parsed is None:
        return dbt_manifest(warehouse)
    beside = target_dir(warehouse) / "manifest.json"
    beside.parent.mkdir(parents=True, exist_ok=True)
    partial = beside.with_name(f".{beside.name}.partial")
    shutil.copyfile(parsed, partial)
    partial.replace(beside)
    return beside


def plan_limits(config: Any, edition: str | None = None, per_minute: int | None = None) -> PlanLimits:
    """The plan the estimate assumes: the Connection's edition, users and throttle unless the DAG
    run's params say otherwise."""
    return PlanLimits(edition or config.edition, int(config.user_count or 10),
                      int(per_minute) if per_minute else config.per_minute_credits, config.max_concurrency)


@dataclass(frozen=True)
class PreparedLoad:
    run_id: str
    plan_path: Path
    estimate: dict[str, Any]

    def to_xcom(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "plan_path": str(self.plan_path), "credits": self.estimate["credits"],
                "seconds": self.estimate["seconds"], "days_of_daily_credits": self.estimate["days_of_daily_credits"],
                "modules": {m["module"]: {"rows": m["rows"], "credits": m["credits"]} for m in self.estimate["modules"]}}


def prepare_load(run_id: str, plan: LoadPlan, limits: PlanLimits, *, warehouse: Path | str | None = None,
                 journal_root: Path | None = None, counts: dict[str, int] | None = None) -> PreparedLoad:
    """Before the load tasks start: estimate credits and time, and write the run's plan where the
    load tasks (plan.json) and the reports (run.json, with the prediction the run report compares
    against) read it. A retry keeps the run's first plan and prediction. `counts`: the rows per
    module when the caller holds them (the sample's selection counted what it wrote)."""
    root = settings.journal_root(journal_root)
    folder = journal.run_dir(root, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    if counts is None:
        source = TableSource(_warehouse(warehouse))
        counts = {s.module: source.count(s) for s in plan.specs}
    fresh = estimate(plan, counts, limits).to_dict()
    predicted = journal.write_run_file(root, run_id, plan.to_json(), fresh) or fresh  # the loader's run file
    plan_path = folder / "plan.json"
    plan_path.write_text(plan.to_json())
    return PreparedLoad(run_id, plan_path, predicted)


def cutover_plan(manifest: Path) -> LoadPlan:
    return plan_from_manifest(manifest)


def sample_plan(manifest: Path, warehouse: Path | str | None = None, *, seed: int = 0, minimum: int = 100,
                maximum: int = 300, share: float = 0.05) -> tuple[LoadPlan, dict[str, Any]]:
    """Choose the sample (writes ops.sample_patients and schema sample) and return its load plan
    with a summary for the logs: counts per module and per stratum dimension, no patient data."""
    from clinic2zoho.sample import select_sample

    selection = select_sample(_warehouse(warehouse), plan=plan_from_manifest(manifest), seed=seed,
                              minimum=minimum, maximum=maximum, share=share)
    return selection.plan, {"patients": len(selection.patients), "population": selection.population,
                            "seed": selection.seed, "tables": dict(selection.tables)}


def workflow_rebuild(warehouse: Path | str | None = None, reports_dir: Path | None = None) -> dict[str, Any]:
    from clinic2zoho.reports import write_workflow_rebuild

    ref = write_workflow_rebuild(_warehouse(warehouse), reports_dir)
    return {"workflows": len(ref.workflows), "markdown": str(ref.markdown_path), "html": str(ref.html_path)}
