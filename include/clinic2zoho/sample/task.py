"""The sample DAG's select_sample task as a plain function (the Airflow task wraps it; the bench
calls it): the load plan from the work folder's dbt manifest while it is the project's as it is now
(`dbt parse` otherwise), the sample chosen, the org's layout-mandatory fields checked against the
sample's tables, and the run's plan and estimate written for the load tasks. The checks and the
estimate take the rows the selection wrote instead of counting them again."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from clinic2zoho.sample.tables import SampleTables


def load_manifest(warehouse: Path) -> Path:
    """dbt's manifest for the load plan, where `steps.dbt_manifest` leaves it (beside the warehouse,
    where the reports read the models' rules): the work folder's copied there when it was parsed
    from the same project as it is now, for this warehouse (what `clinic2zoho migrate` writes
    before Airflow starts), else a fresh `dbt parse` (some 10 s on 2 cores)."""
    from clinic2zoho import settings
    from clinic2zoho.orchestration import steps
    from clinic2zoho.orchestration.dbt_manifest import current_manifest
    from clinic2zoho.transform.dbt_runner import target_dir

    # the project steps.dbt_manifest parses, and the warehouse the work folder's was parsed for
    parsed = current_manifest(settings.DBT_PROJECT_DIR) if warehouse == settings.home() / "warehouse.duckdb" else None
    if parsed is None:
        return steps.dbt_manifest(warehouse)
    beside = target_dir(warehouse) / "manifest.json"
    beside.parent.mkdir(parents=True, exist_ok=True)
    partial = beside.with_name(f".{beside.name}.partial")
    shutil.copyfile(parsed, partial)
    partial.replace(beside)
    return beside


def select_for_run(run_id: str, client: Any, limits: Any, *, seed: int, minimum: int, maximum: int,
                   warehouse: Path | str | None = None, journal_root: Path | None = None) -> dict[str, Any]:
    """Choose the sample (ops.sample_patients, schema sample) and write the run's plan over it;
    returns the task's XCom. Raises loader.layout_gate.LayoutGapsFound when the org's layouts
    require a field the sample's tables leave empty (custom modules not created yet: their load
    checks them)."""
    from clinic2zoho import settings
    from clinic2zoho.loader.layout_gate import require_layouts_filled
    from clinic2zoho.orchestration import steps

    warehouse = Path(warehouse) if warehouse else settings.warehouse_path()
    plan, summary = steps.sample_plan(load_manifest(warehouse), warehouse, seed=seed, minimum=minimum, maximum=maximum)
    with SampleTables(warehouse, summary["tables"]) as tables:
        require_layouts_filled(client, plan, tables)  # before the first load task
    prepared = steps.prepare_load(run_id, plan, limits, warehouse=warehouse, journal_root=journal_root,
                                  counts=summary["tables"])
    return {**prepared.to_xcom(), "sample": summary}
