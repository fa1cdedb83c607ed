"""One delta run, in steps a DAG wires one task each (and `run_delta` chains for plain Python):

1. `check_window` (window.py): skip when no window is open; close it when its time passed.
2. `land_changes`: fingerprint the export, land it (idempotent: only new or changed rows land, as
   new versions), and list the raw tables that received rows past the window's watermark.
3. `rebuild_models`: `dbt build --select source:<src>.<table>+` for those tables — the models
   downstream of what changed, with their tests as the gate; the other Zoho-shaped tables keep
   their cutover contents (their inputs did not move). No changed table, no dbt.
4. `stage_delta`: rows new or changed since the baseline into `delta.*`, and a load plan over them.
5. load: the loader over that plan with the run's own id (upserts by external id: existing
   records are updated with their before-image journaled, so `clinic2zoho rollback --run` undoes
   a delta run as it undoes a cutover).
6. `finish_run`: publish the run's journal into `ops`, move the baseline, the file fingerprints
   and the watermark forward.

Every step takes the DAG run's id; a retried step does the same work again without harm."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from clinic2zoho import settings
from clinic2zoho.delta.baseline import commit_sent, stage_changes
from clinic2zoho.delta.changes import FileFingerprint, detect_changes
from clinic2zoho.delta.watermark import batches_past, latest_batch_at
from clinic2zoho.delta.window import (DeltaWindow, _store_files, connect, journal_safe, load_plan_of_run,
                                      recorded_files)
from clinic2zoho.transactions import transaction

log = logging.getLogger(__name__)

RUNS_SQL = """
CREATE TABLE IF NOT EXISTS ops.delta_runs (
    window_id VARCHAR NOT NULL, run_id VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ, batch_id VARCHAR, rows_landed BIGINT, files VARCHAR, tables VARCHAR,
    selection VARCHAR, staged VARCHAR, committed BIGINT, status VARCHAR NOT NULL, pending_files VARCHAR);
"""


class DeltaRunError(RuntimeError):
    pass


def _wh(warehouse: str | Path | None) -> Path:
    return Path(warehouse) if warehouse else settings.warehouse_path()


def _update_run(window_id: str, run_id: str, warehouse: Path, **values: Any) -> None:
    con = connect(warehouse)
    try:
        con.execute(RUNS_SQL)
        sets = ", ".join(f"{k} = ?" for k in values)
        con.execute(f"UPDATE ops.delta_runs SET {sets} WHERE window_id = ? AND run_id = ?",
                    [*values.values(), window_id, run_id])
    finally:
        con.close()


def pending_changes(window: DeltaWindow, warehouse: str | Path | None = None) -> dict[str, Any]:
    """What the sensor asks: export files new or changed since the watermark's fingerprints, and
    rows landed past the watermark. {"files": {...}, "rows_past_watermark": n, "any": bool}."""
    con = connect(_wh(warehouse), read_only=True)
    try:
        recorded = recorded_files(window.window_id, con=con)
        rows = sum(b.rows_landed for b in batches_past(con, window.watermark_at))
    finally:
        con.close()
    changes = detect_changes(window.source, recorded)
    return {"files": changes.summary(), "rows_past_watermark": rows, "any": changes.any or rows > 0}


def land_changes(window: DeltaWindow, run_id: str, warehouse: str | Path | None = None) -> dict[str, Any]:
    """Land the export again; return the batch and the raw tables with rows past the watermark."""
    from clinic2zoho.landing import land_export

    run_id = journal_safe(run_id)
    wh = _wh(warehouse)
    con = connect(wh, read_only=True)
    try:
        recorded = recorded_files(window.window_id, con=con)
    finally:
        con.close()
    # Fingerprints taken before landing: a file changing while it lands is seen next run.
    changes = detect_changes(window.source, recorded)
    result = land_export(Path(window.source), window.format, warehouse=wh)
    con = connect(wh)
    try:
        con.execute(RUNS_SQL)
        batches = batches_past(con, window.watermark_at)
        tables = sorted({t for b in batches for t in b.tables})
        landed = sum(b.rows_landed for b in batches)
        con.execute("DELETE FROM ops.delta_runs WHERE window_id = ? AND run_id = ?", [window.window_id, run_id])
        con.execute("INSERT INTO ops.delta_runs (window_id, run_id, started_at, batch_id, rows_landed, files, tables,"
                    " status, pending_files) VALUES (?, ?, ?, ?, ?, ?, ?, 'landed', ?)",
                    [window.window_id, run_id, datetime.now(timezone.utc), result.batch_id, landed,
                     json.dumps(changes.summary()), json.dumps(tables),
                     json.dumps([f.to_dict() for f in changes.current.values()])])
    finally:
        con.close()
    log.info("delta run %s: batch %s landed %d new row version(s); raw tables past the watermark: %s",
             run_id, result.batch_id, result.totals()["landed"], ", ".join(tables) or "none")
    return {"batch_id": result.batch_id, "rows_landed": landed, "tables": tables, "files": changes.summary()}


def dbt_selection(tables: list[str], manifest_path: Path) -> list[str]:
    """`source:<source>.<table>+` for every raw table a dbt source declares (others feed nothing)."""
    manifest = json.loads(Path(manifest_path).read_text())
    by_relation = {f"{s['schema']}.{s.get('identifier') or s['name']}".lower(): f"source:{s['source_name']}.{s['name']}+"
                   for s in manifest.get("sources", {}).values()}
    return sorted({by_relation[t.lower()] for t in tables if t.lower() in by_relation})


def rebuild_models(window: DeltaWindow, run_id: str, tables: list[str], warehouse: str | Path | None = None,
                   project_dir: str | Path | None = None) -> dict[str, Any]:
    """dbt build of the models downstream of the changed raw tables (tests included: a failing
    gate test stops the run before anything reaches Zoho)."""
    from clinic2zoho.mapping.files import dbt_project_dir
    from clinic2zoho.transform import run_dbt

    run_id = journal_safe(run_id)
    wh = _wh(warehouse)
    project = Path(project_dir) if project_dir else dbt_project_dir()
    selection: list[str] = []
    sources_from = None
    if tables:
        sources_from = _sources_manifest(run_id, wh, window, project)
        selection = dbt_selection(tables, sources_from)
    if not selection:
        log.info("delta run %s: no changed table feeds a model; dbt not run", run_id)
        _update_run(window.window_id, run_id, wh, selection=json.dumps([]), status="built")
        return {"selection": [], "built": False, "nodes": 0, "sources_from": str(sources_from or "")}
    built = run_dbt(["build", "--select", *selection], wh, window.dbt_vars, project_dir=project)
    if not built.success:
        raise DeltaRunError(f"delta run {run_id}: dbt build failed; nothing was sent to Zoho\n{built.summary()}")
    _update_run(window.window_id, run_id, wh, selection=json.dumps(selection), status="built")
    log.info("delta run %s: dbt build --select %s: %d nodes in %.1fs", run_id, " ".join(selection),
             len(built.node_status), built.elapsed_s)
    return {"selection": selection, "built": True, "nodes": len(built.node_status),
            "warnings": [w.name for w in built.warnings], "sources_from": str(sources_from)}


def _sources_manifest(run_id: str, wh: Path, window: DeltaWindow, project: Path) -> Path:
    """A manifest that declares the project's dbt sources as they are now: the work folder's (the
    one the DAG files render from, parsed while the project's files are as they are now; the
    sources name no var), else a `dbt parse` (some 5 s of each hourly run on 2 cores)."""
    from clinic2zoho.orchestration.dbt_manifest import current_manifest
    from clinic2zoho.transform import run_dbt

    parsed_before = current_manifest(project)
    if parsed_before is not None:
        return parsed_before
    parsed = run_dbt(["parse"], wh, window.dbt_vars, project_dir=project)
    if not parsed.success:
        raise DeltaRunError(f"delta run {run_id}: dbt parse failed\n{parsed.summary()}")
    return parsed.target_path / "manifest.json"


def stage_delta(window: DeltaWindow, run_id: str, warehouse: str | Path | None = None,
                journal_root: Path | None = None) -> dict[str, Any]:
    """Stage the rows to send into `delta.*` and write the run's load plan over them."""
    run_id = journal_safe(run_id)
    wh = _wh(warehouse)
    plan = window.plan or load_plan_of_run(window.cutover_run_id, journal_root, wh)
    con = connect(wh)
    try:
        con.execute(RUNS_SQL)
        staged = stage_changes(con, window.window_id, run_id, plan)
    finally:
        con.close()
    plan_path = settings.home() / "delta" / window.window_id / run_id / "plan.json"
    plan_path.parent.mkdir(parents=True, exist_ok=True)
    plan_path.write_text(staged.plan.to_json())
    out = {**staged.to_dict(), "plan_path": str(plan_path)}
    _update_run(window.window_id, run_id, wh, staged=json.dumps(staged.to_dict()), status="staged")
    log.info("delta run %s: to send %s (new %s, changed %s); notes/attachments changed in place, not re-sent:"
             " %s; keys gone from the export (kept in Zoho): %s", run_id, out["modules"] or "nothing",
             _nonzero(staged.new), _nonzero(staged.changed), staged.children_changed or "none",
             staged.removed or "none")
    return out


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


def finish_run(window: DeltaWindow, run_id: str, warehouse: str | Path | None = None,
               journal_root: Path | None = None, now: datetime | None = None) -> dict[str, Any]:
    """After the load: publish the journal, move baseline, fingerprints and watermark forward."""
    from clinic2zoho.loader.journal import FINAL, JournalReader, publish

    run_id = journal_safe(run_id)
    wh = _wh(warehouse)
    root = settings.journal_root(journal_root)
    now = now or datetime.now(timezone.utc)
    final: list[tuple[str, str]] = []
    pending = 0
    if (root / run_id).is_dir():
        with JournalReader(root, runs=[run_id]) as reader:
            final = [(m, k) for m, k in reader.sql(
                f"SELECT DISTINCT module, source_key FROM load_journal WHERE run_id = ? AND status IN {FINAL}", [run_id])]
            pending = reader.sql("SELECT count(*) FROM load_journal WHERE run_id = ? AND status IN ('intent', 'sent')",
                                 [run_id])[0][0]
        publish(root, wh, run_id)
    if pending:
        raise DeltaRunError(f"delta run {run_id}: {pending} row(s) still pending in the journal; "
                            "retry the load task to resume before finishing")
    con = connect(wh)
    try:
        con.execute(RUNS_SQL)
        row = con.execute("SELECT pending_files FROM ops.delta_runs WHERE window_id = ? AND run_id = ?",
                          [window.window_id, run_id]).fetchone()
        with transaction(con):
            committed = commit_sent(con, window.window_id, run_id, final, now)
            if row and row[0] is not None:
                _store_files(con, window.window_id, [FileFingerprint.from_dict(d) for d in json.loads(row[0])], now)
            watermark = latest_batch_at(con)
            con.execute("UPDATE ops.delta_window SET watermark_at = ?, last_run_id = ?, runs = runs + 1, updated_at = ?"
                        " WHERE window_id = ?", [watermark, run_id, now, window.window_id])
            con.execute("UPDATE ops.delta_runs SET finished_at = ?, committed = ?, status = 'done'"
                        " WHERE window_id = ? AND run_id = ?", [now, committed, window.window_id, run_id])
    finally:
        con.close()
    log.info("delta run %s of window %s finished: %d row(s) sent or settled; watermark %s", run_id,
             window.window_id, committed, watermark.isoformat() if watermark else None)
    return {"run_id": run_id, "window_id": window.window_id, "committed": committed,
            "watermark_at": watermark.isoformat() if watermark else None}


@dataclass
class DeltaRunResult:
    action: str  # run | closed_now | none | no_changes
    message: str
    run_id: str | None = None
    landed: dict | None = None
    built: dict | None = None
    staged: dict | None = None
    loaded: dict | None = None
    finished: dict | None = None


def run_delta(client: Any, run_id: str | None = None, *, warehouse: str | Path | None = None,
              journal_root: Path | None = None, gate: Callable[[], Any] | None = None,
              load_settings: Any = None, force: bool = False, now: datetime | None = None) -> DeltaRunResult:
    """The whole delta run without Airflow: check the window, look for changes (unless `force`),
    land, rebuild, stage, load through `client` (the loader, upserting by external id), finish."""
    from clinic2zoho.delta.window import check_window
    from clinic2zoho.loader import service
    from clinic2zoho.loader.run import new_run_id

    wh = _wh(warehouse)
    checked = check_window(wh, now)
    log.info("%s", checked.message)
    if not checked.proceed:
        return DeltaRunResult(checked.action, checked.message)
    window = checked.window
    if not force and not pending_changes(window, wh)["any"]:
        return DeltaRunResult("no_changes", "no export file or landed row past the watermark")
    run_id = journal_safe(run_id or "delta-" + new_run_id())
    root = settings.journal_root(journal_root)
    landed = land_changes(window, run_id, wh)
    built = rebuild_models(window, run_id, landed["tables"], wh)
    staged = stage_delta(window, run_id, wh, journal_root=root)
    loaded = None
    if staged["modules"]:
        plan = service.read_plan(staged["plan_path"]).select(staged["modules"])
        result = service.load(service.LoadRequest(plan, run_id, client=client, modules=staged["modules"],
                                                  journal_root=root, warehouse=wh, settings=load_settings, gate=gate))
        loaded = service.loaded_counts(result)
    finished = finish_run(window, run_id, wh, root)
    return DeltaRunResult("run", checked.message, run_id, landed, built, staged, loaded, finished)
