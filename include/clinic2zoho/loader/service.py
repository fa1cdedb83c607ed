"""A load run and a rollback run, written once for their callers: the commands (`load`,
`rollback`), the Airflow operators and the delta run. Each caller says what differs in a request
(where Zoho is, the plan, the modules, the run id, the journal, the warehouse, the settings); the
service opens the client with the run's audit log, runs the loader or the rollback, closes what it
opened, and publishes the journal and writes the run report. Its errors are the loader's own
(`LoadStopped`, `REFUSED`, `BulkJobStarted`): each caller words them for its user."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from clinic2zoho import settings as app_settings
from clinic2zoho.loader import journal
from clinic2zoho.loader.estimate import PlanLimits
from clinic2zoho.loader.layout_gate import LayoutGapsFound
from clinic2zoho.loader.module_loader import LoadSettings
from clinic2zoho.loader.plan import LoadPlan, plan_from_manifest
from clinic2zoho.loader.rollback import Rollback, modules_left, rollback_schema
from clinic2zoho.loader.run import Loader, LoadStopped, RunResult, open_client, write_report
from clinic2zoho.loader.run_org import OrgMismatch
from clinic2zoho.loader.source import TableSource
from clinic2zoho.zoho.errors import ZohoAuthError

# Nothing was sent and no retry changes it: the run's journal names another org than the one
# reached, or the tables leave fields the org's layouts make mandatory empty.
REFUSED = (OrgMismatch, LayoutGapsFound)


def stopped_for_good(exc: LoadStopped) -> bool:
    """Refused credentials: no retry meets other ones (a rate-limit storm passes)."""
    return isinstance(exc.cause, ZohoAuthError)


def read_plan(plan_path: str | Path | None = None, manifest_path: str | Path | None = None) -> LoadPlan:
    """The plan JSON given, else the one dbt's manifest gives (default: the project's target/)."""
    if plan_path:
        return LoadPlan.from_json(Path(plan_path).read_text())
    return plan_from_manifest(manifest_path or app_settings.DBT_PROJECT_DIR / "target" / "manifest.json")


def _warehouse(given: str | Path | None) -> Path:
    return Path(given) if given else app_settings.warehouse_path()


@contextmanager
def audited_client(config: Any, root: Path, run_id: str, *, client: Any = None, audit: bool = True) -> Iterator[Any]:
    """The client a run talks through: the caller's own (left open), else one opened on `config`
    with every call written to the run's audit log (none when `audit` is False: a dry run), both
    closed after."""
    if client is not None:
        yield client
        return
    log_of_calls = journal.AuditLog(root, run_id) if audit else None
    opened = open_client(config, log_of_calls)
    try:
        yield opened
    finally:
        opened.close()
        if log_of_calls is not None:
            log_of_calls.close()


@dataclass(frozen=True)
class LoadRequest:
    """One load run. config: a ZohoConfig, or client: an open client (its caller audits it).
    modules: those of the plan to load (None: all). journal_root, warehouse: None for the work
    folder's. settings, gate, limits: as `Loader` takes them."""

    plan: LoadPlan
    run_id: str
    config: Any = None
    client: Any = None
    modules: list[str] | None = None
    journal_root: str | Path | None = None
    warehouse: str | Path | None = None
    settings: LoadSettings | None = None
    gate: Callable[[], Any] | None = None
    limits: PlanLimits | None = None


def load(request: LoadRequest) -> RunResult:
    """Run the loader over the request's modules. Raises LoadStopped, one of REFUSED, or
    BulkJobStarted (deferrable settings: a bulk job is running)."""
    root = app_settings.journal_root(request.journal_root)
    with audited_client(request.config, root, request.run_id, client=request.client) as client:
        request.plan.select(request.modules)  # every module named must be in the plan
        loader = Loader(request.plan, client, run_id=request.run_id, root=root,
                        source=TableSource(_warehouse(request.warehouse)), settings=request.settings,
                        gate=request.gate, limits=request.limits)
        return loader.run(request.modules)


def loaded_counts(result: RunResult) -> dict[str, dict[str, int]]:
    """Per module: rows done, rejected and skipped (counts only: what an XCom may carry)."""
    return {m["module"]: {k: m[k] for k in ("done", "rejected", "skipped")} for m in result.modules}


@dataclass(frozen=True)
class RunReport:
    path: Path  # the report's JSON (its HTML beside it)
    summary: dict  # as `run_summary` gives it

    @property
    def pending(self) -> int:
        return sum(m["pending"] for m in self.summary["modules"])


def publish_and_report(run_id: str, *, journal_root: str | Path | None = None, warehouse: str | Path | None = None,
                       publish: bool = True) -> RunReport:
    """Copy the run's journal, rejects and audit log into the warehouse's `ops` schema (unless
    `publish` is false) and write the run report."""
    root = app_settings.journal_root(journal_root)
    if publish:
        journal.publish(root, _warehouse(warehouse), run_id)
    path = write_report(root, run_id)
    return RunReport(path, json.loads(path.read_text()))


@dataclass(frozen=True)
class RollbackRequest:
    """Undo a load run from its journal (no mapping gate: it works from the journal). modules: only
    these (None: the whole run). schema: also what schema preparation created for the run, once
    its records are gone. publish: the rollback journal into the warehouse, when it exists."""

    run_id: str
    config: Any
    modules: list[str] | None = None
    schema: bool = False
    journal_root: str | Path | None = None
    warehouse: str | Path | None = None
    publish: bool = True


@dataclass(frozen=True)
class RollbackOutcome:
    run_id: str
    modules: list[dict]  # per module: deleted, restored, failed
    schema: list[dict]  # per schema step: kind, module, field, status, outcome
    left: list[str]  # custom modules Zoho's API cannot delete: removed in Setup > Modules
    report: Path | None  # written when the schema was rolled back
    warehouse: Path

    @property
    def records_failed(self) -> int:
        return sum(r["failed"] for r in self.modules)

    @property
    def schema_failed(self) -> bool:
        return any(s["status"] == "failed" for s in self.schema)


def rollback(request: RollbackRequest) -> RollbackOutcome:
    """Undo the run's records (and its schema changes). Raises OrgMismatch before undoing anything
    when the run went into another org than the one reached."""
    root = app_settings.journal_root(request.journal_root)
    warehouse = _warehouse(request.warehouse)
    with audited_client(request.config, root, request.run_id) as client:
        results = Rollback(client, request.run_id, root).run(request.modules or None)
        schema = rollback_schema(client, warehouse, request.run_id, root=root) if request.schema else []
    if request.publish and warehouse.exists():
        journal.publish(root, warehouse, request.run_id)
    report = write_report(root, request.run_id) if request.schema else None
    return RollbackOutcome(request.run_id, results, schema, modules_left(schema), report, warehouse)


def close_cutover_windows(outcome: RollbackOutcome) -> list:
    """After a full rollback: close the delta window its cutover run opened, else the delta would
    keep upserting changes into an org the cutover was taken out of. Returns the windows closed."""
    if not outcome.warehouse.exists():
        return []
    from clinic2zoho.delta.window import close_windows_of_run

    return close_windows_of_run(outcome.run_id, "its cutover run was rolled back", warehouse=outcome.warehouse)
