"""The sample DAG's select_sample task as a plain function (the Airflow task wraps it; the bench
calls it): the load plan from the work folder's dbt manifest while it is the project's as it is now
(`dbt parse` otherwise), the sample chosen, the org's layout-mandatory fields checked against the
sample's tables (over one held connection), and the run's plan and estimate written for the load
tasks, the estimate on the rows the selection wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clinic2zoho.loader.source import TableSource


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
    plan, summary = steps.sample_plan(steps.load_manifest(warehouse), warehouse, seed=seed, minimum=minimum, maximum=maximum)
    with TableSource(warehouse).held() as tables:
        require_layouts_filled(client, plan, tables)  # before the first load task
    prepared = steps.prepare_load(run_id, plan, limits, warehouse=warehouse, journal_root=journal_root,
                                  counts=summary["tables"])
    return {**prepared.to_xcom(), "sample": summary}
