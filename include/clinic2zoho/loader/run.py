"""A load run: the gate, the plan's groups in order (modules of a group in parallel), the audit
log, the run report (prediction vs actual) and publication of the journal into `ops`."""

from __future__ import annotations

import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from clinic2zoho import settings as app_settings
from clinic2zoho.loader import journal, run_org
from clinic2zoho.loader.checkpoints import Checkpoint, EnvCrash
from clinic2zoho.loader.estimate import Estimate, PlanLimits, estimate
from clinic2zoho.loader.layout_gate import LayoutGapsFound, require_layouts_filled
from clinic2zoho.loader.module_loader import BulkJobStarted, LoadContext, LoadSettings, ModuleLoader
from clinic2zoho.loader.plan import LoadPlan
from clinic2zoho.loader.resolve import Crosswalk, OwnerResolver, ProductResolver
from clinic2zoho.loader.source import TableSource
from clinic2zoho.zoho import refusals

log = logging.getLogger(__name__)


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def open_client(config: Any, audit: journal.AuditLog | None) -> Any:
    from clinic2zoho.zoho import ZohoClient

    return ZohoClient(config, on_call=audit)


class LoadStopped(RuntimeError):
    """Zoho refused the credentials, or kept rate limiting: every further call would meet the
    same refusal, so the run stops with its rows pending (none rejected for it) and says what to
    do. `message(...)` words it for the caller (environment settings or an Airflow Connection)."""

    def __init__(self, run_id: str, module: str, cause: BaseException):
        self.run_id, self.module, self.cause = run_id, module, cause
        super().__init__(self.message())

    def message(self, conn_id: str | None = None, resume: str | None = None) -> str:
        resume = resume or f"Rerun with --run {self.run_id}: it resumes with the same run id"
        return f"loading {self.module} stopped: " + refusals.explain(self.cause, resume=resume, conn_id=conn_id)


@dataclass
class RunResult:
    """What one call of Loader.run did, per module (counts by journal status, calls, jobs). Credits
    and the prediction are in the run report (`run_summary`, `write_report`)."""

    run_id: str
    modules: list[dict]
    seconds: float

    @property
    def pending(self) -> int:
        return sum(m.get("intent", 0) + m.get("sent", 0) for m in self.modules)


class Loader:
    """Loads the modules of a plan into the org `client` talks to.

    gate: called before anything moves; raises when the mapping is not confirmed (rollback is
    exempt). check_layouts: after the org is claimed, stop (LayoutGapsFound) when a table leaves a
    field the org's layouts make mandatory empty (loader.layout_gate). checkpoint: crash injection
    for tests (default: CLINIC2ZOHO_CRASH_AT)."""

    def __init__(self, plan: LoadPlan, client: Any, *, run_id: str | None = None, root: Path | None = None,
                 source: TableSource | None = None, settings: LoadSettings | None = None,
                 gate: Callable[[], Any] | None = None, checkpoint: Checkpoint | None = None,
                 limits: PlanLimits | None = None, check_layouts: bool = True):
        self.plan = plan
        self.check_layouts = check_layouts
        self.client = client
        self.run_id = run_id or new_run_id()
        self.root = app_settings.journal_root(root)
        self.source = source or TableSource(app_settings.warehouse_path())
        self.settings = settings or LoadSettings()
        self.gate = gate
        self.checkpoint = checkpoint or EnvCrash()
        self.limits = limits

    def _write_run_file(self, predicted: Estimate | None) -> None:
        journal.write_run_file(self.root, self.run_id, self.plan.to_json(), predicted.to_dict() if predicted else None)

    def predict(self) -> Estimate | None:
        if self.limits is None:
            return None
        counts = {s.module: self.source.count(s) for s in self.plan.specs}
        return estimate(self.plan, counts, self.limits, force_path=self.settings.force_path)

    def _with_export_folder(self) -> LoadSettings:
        """Documents are read only inside the export folder: the one given, else the one landed."""
        if self.settings.files_root is not None or not any(s.kind == "attachment" for s in self.plan.specs):
            return self.settings
        finder = getattr(self.source, "export_folder", None)
        folder = finder() if finder else None
        return replace(self.settings, files_root=folder) if folder else self.settings

    def _claim_org(self, wanted: set[str] | None) -> str:
        """Before anything is written: the org the run loads, recorded with the run or checked
        against it (a resume meets its own org; run_org). Its GET /org is the run's first call, so
        refused credentials or a 429 storm stop the run here as they would on any module."""
        try:
            return run_org.claim(self.root, self.run_id, self.client)["org_id"]
        except Exception as exc:
            if refusals.stops_work(exc):
                first = next((m for g in self.plan.groups() for m in g if wanted is None or m in wanted), "the plan")
                raise LoadStopped(self.run_id, first, exc) from exc
            raise

    def _checks_connection(self) -> AbstractContextManager[Any]:
        """One read-only connection for the reads before a load (each table's columns, rows and
        empty fields; the prediction's counts), where each read opened the warehouse file on its
        own: about 25 ms apiece on the demo's warehouse, three or more in every load task. A
        warehouse not there yet is left to those reads to name."""
        return self.source.held() if self.source.warehouse.is_file() else nullcontext()

    def _layouts_filled(self, wanted: set[str] | None) -> None:
        try:
            require_layouts_filled(self.client, self.plan, self.source, sorted(wanted) if wanted else None)
        except LayoutGapsFound:
            raise
        except Exception as exc:
            if refusals.stops_work(exc):
                raise LoadStopped(self.run_id, "the layouts check", exc) from exc
            raise

    def run(self, modules: list[str] | None = None) -> RunResult:
        if self.gate is not None:
            self.gate()
        started = time.monotonic()
        wanted = set(modules) if modules else None
        org_id = self._claim_org(wanted)
        with self._checks_connection():
            if self.check_layouts:  # the org's layout-mandatory fields, filled by the tables before anything moves
                self._layouts_filled(wanted)
            predicted = self.predict()
        self._write_run_file(predicted)
        ctx = LoadContext(
            client=self.client, journal_root=self.root, run_id=self.run_id, source=self.source,
            settings=self._with_export_folder(), checkpoint=self.checkpoint,
            crosswalk=Crosswalk(self.root, self.client, {s.module: s.external_id for s in self.plan.specs}, org_id),
            owners=OwnerResolver(self.client), products=ProductResolver(self.client), org_id=org_id,
        )
        results: list[dict] = []
        # every module's crosswalk and pending keys read the journal: one reading database for all
        with journal.shared_reading():
            for group in self.plan.groups():
                group = [m for m in group if wanted is None or m in wanted]
                if group:
                    results += self._load_group(ctx, group)
        elapsed = time.monotonic() - started
        return RunResult(self.run_id, results, elapsed)

    def _load_group(self, ctx: LoadContext, group: list[str]) -> list[dict]:
        """The group's modules side by side; after a failure the others finish, then the load stops."""
        results: list[dict] = []
        errors: list[tuple[str, Exception]] = []
        with ThreadPoolExecutor(max_workers=len(group), thread_name_prefix="load-group") as pool:
            futures = {m: pool.submit(ModuleLoader(ctx, self.plan.spec(m)).run) for m in group}
            for m, fut in futures.items():
                try:
                    results.append(fut.result())
                except Exception as exc:
                    errors.append((m, exc))
        if not errors:
            return results
        for _, err in errors:
            if isinstance(err, BulkJobStarted):
                raise err  # a deferrable caller waits for the job, then runs again
        for m_stop, err in errors:
            if refusals.stops_work(err):
                raise LoadStopped(self.run_id, m_stop, err) from err
        m, exc = errors[0]
        raise RuntimeError(f"loading {m} failed: {exc}; rerun with --run {self.run_id} to resume") from exc


def run_summary(root: Path, run_id: str) -> dict:
    """Per module: rows by status, credits spent (audit log), and the run's prediction."""
    with journal.JournalReader(root, runs=[run_id]) as reader:
        status = reader.dicts(
            """SELECT module, count(*) FILTER (status = 'done') AS done,
                      count(*) FILTER (status = 'rejected') AS rejected,
                      count(*) FILTER (status = 'skipped') AS skipped,
                      count(*) FILTER (status IN ('intent', 'sent')) AS pending,
                      count(*) FILTER (status = 'done' AND operation = 'insert') AS inserted,
                      count(*) FILTER (status = 'done' AND operation = 'update') AS updated
               FROM load_journal WHERE run_id = ? GROUP BY module ORDER BY module""", [run_id])
        spent = dict(reader.sql("SELECT coalesce(module, '(org)'), sum(credits) FROM audit_log WHERE run_id = ?"
                                " GROUP BY ALL", [run_id]))
        # the load's own calls: schema preparation, audited under the same run, is counted apart
        calls = reader.sql("SELECT count(*), coalesce(sum(credits), 0), min(called_at), max(called_at)"
                           " FROM audit_log WHERE run_id = ? AND module IS DISTINCT FROM ?",
                           [run_id, journal.SCHEMA_SCOPE])[0]
        rejects = reader.dicts("SELECT module, code, field, count(*) AS n FROM load_rejects WHERE run_id = ?"
                               " GROUP BY ALL ORDER BY n DESC", [run_id])
        # a schema rollback (`rollback --schema`) journals its steps with source_key 'schema:...'
        schema_rollback = reader.dicts(
            "SELECT module, action, status, error AS outcome, source_key FROM rollback_journal"
            " WHERE run_id = ? AND source_key LIKE 'schema:%' ORDER BY updated_at", [run_id])
    run_file = journal.run_file(root, run_id)
    meta = json.loads(run_file.read_text()) if run_file.exists() else {}
    predicted = meta.get("estimate")
    for row in status:
        row["credits"] = int(spent.get(row["module"], 0) or 0)
        if predicted:
            match = [m for m in predicted["modules"] if m["module"] == row["module"]]
            row["predicted_credits"] = match[0]["credits"] if match else None
    wall = (calls[3] - calls[2]).total_seconds() if calls[2] and calls[3] else 0.0
    return {
        "run_id": run_id, "modules": status, "calls": calls[0], "credits_spent": int(calls[1]),
        "credits_unattributed": int(spent.get("(org)", 0) or 0), "wall_seconds": round(wall, 2),
        "credits_schema": int(spent.get(journal.SCHEMA_SCOPE, 0) or 0),
        "predicted": predicted, "rejects": rejects, "schema_rollback": schema_rollback,
        "modules_to_remove_in_setup": sorted({r["module"] for r in schema_rollback
                                              if r["action"] == "remove_module" and r["status"] in ("left", "kept")}),
    }


def write_report(root: Path, run_id: str, reports: Path | None = None) -> Path:
    summary = run_summary(root, run_id)
    out = (reports or app_settings.reports_dir()) / f"load_{run_id}.json"
    out.write_text(json.dumps(summary, indent=1, default=str))
    html = out.with_suffix(".html")
    rows = "".join(
        f"<tr><td>{m['module']}</td><td>{m['done']}</td><td>{m['rejected']}</td><td>{m['skipped']}</td>"
        f"<td>{m['pending']}</td><td>{m['credits']}</td><td>{m.get('predicted_credits', '')}</td></tr>"
        for m in summary["modules"])
    pred = summary["predicted"] or {}
    html.write_text(
        "<!doctype html><meta charset=utf-8><title>Load report</title>"
        f"<h1>Load run {run_id}</h1><p>Credits spent {summary['credits_spent']}"
        f" (predicted {pred.get('credits', 'n/a')}); {summary['calls']} calls; wall time {summary['wall_seconds']} s"
        f" (predicted {pred.get('seconds', 'n/a')} s).</p>"
        "<table border=1><tr><th>module</th><th>loaded</th><th>rejected</th><th>skipped</th><th>pending</th>"
        f"<th>credits</th><th>predicted</th></tr>{rows}</table>"
        + (f"<p><b>Custom modules left after rollback --schema</b> (empty; Zoho's API cannot delete a module),"
           f" remove in Setup &gt; Modules: {', '.join(summary['modules_to_remove_in_setup'])}</p>"
           if summary["modules_to_remove_in_setup"] else ""))
    return out
