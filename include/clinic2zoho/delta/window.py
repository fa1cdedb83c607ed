"""The delta window: after a cutover, a period (24–48 hours) during which changes made in the
clinic system are carried into Zoho. Its state lives in the warehouse, schema `ops`:

- `ops.delta_window` — one row per window: cutover run id, source and format, start and end, the
  row watermark, the dbt vars and load plan of the cutover, status `open` / `closed`.
- `ops.delta_files` — the export files' fingerprints at the watermark (change detection).
- `ops.delta_baseline` — per module and source key, the hash of the Zoho-shaped row last sent
  (so a delta run sends only rows whose content changed, and new rows).

At most one window is open: opening a new one closes the previous one."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb

from clinic2zoho import settings
from clinic2zoho.delta.changes import FileFingerprint, fingerprint, watched_files
from clinic2zoho.delta.watermark import latest_batch_at
from clinic2zoho.loader.plan import LoadPlan
from clinic2zoho.loader import journal
from clinic2zoho.loader.journal import safe_run_id
from clinic2zoho.formats import FORMATS
from clinic2zoho.transactions import transaction

log = logging.getLogger(__name__)

MIN_HOURS = 24
MAX_HOURS = 48

SCHEMA_SQL = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.delta_window (
    window_id VARCHAR PRIMARY KEY, cutover_run_id VARCHAR NOT NULL, source VARCHAR NOT NULL,
    format VARCHAR NOT NULL, hours DOUBLE NOT NULL, opened_at TIMESTAMPTZ NOT NULL,
    closes_at TIMESTAMPTZ NOT NULL, status VARCHAR NOT NULL, closed_at TIMESTAMPTZ,
    close_reason VARCHAR, watermark_at TIMESTAMPTZ, dbt_vars VARCHAR, plan VARCHAR,
    last_run_id VARCHAR, runs INTEGER NOT NULL DEFAULT 0, updated_at TIMESTAMPTZ NOT NULL);
CREATE TABLE IF NOT EXISTS ops.delta_files (
    window_id VARCHAR NOT NULL, name VARCHAR NOT NULL, size BIGINT NOT NULL, mtime_ns BIGINT NOT NULL,
    sha256 VARCHAR, recorded_at TIMESTAMPTZ NOT NULL);
CREATE TABLE IF NOT EXISTS ops.delta_baseline (
    window_id VARCHAR NOT NULL, module VARCHAR NOT NULL, source_key VARCHAR NOT NULL,
    row_hash UBIGINT NOT NULL, run_id VARCHAR NOT NULL, recorded_at TIMESTAMPTZ NOT NULL);
"""


class DeltaWindowError(ValueError):
    pass


def utcnow() -> datetime:
    """The window's clock: every open, check and close reads it (a test moves it forward to see a
    window close itself, rather than editing the window's row)."""
    return datetime.now(timezone.utc)


def journal_safe(run_id: str) -> str:
    """Airflow run ids as the loader's journal names them (the same rule as the load operator)."""
    return safe_run_id(run_id)


def connect(warehouse: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = Path(warehouse) if warehouse else settings.warehouse_path()
    if read_only:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: warehouse not found")
        return duckdb.connect(str(path), read_only=True)
    con = duckdb.connect(str(path))
    con.execute(SCHEMA_SQL)
    return con


def _has_window_table(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ops'"
                            " AND table_name = 'delta_window'").fetchone()[0])


@dataclass
class DeltaWindow:
    window_id: str
    cutover_run_id: str
    source: str
    format: str
    hours: float
    opened_at: datetime
    closes_at: datetime
    status: str  # open | closed
    watermark_at: datetime | None
    dbt_vars: dict[str, Any] = field(default_factory=dict)
    plan: LoadPlan | None = None
    closed_at: datetime | None = None
    close_reason: str | None = None
    last_run_id: str | None = None
    runs: int = 0

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def expired(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.closes_at

    def describe(self) -> str:
        """Ids and times only (the log line of a window)."""
        state = (f"closed at {self.closed_at:%Y-%m-%d %H:%M:%S %Z} ({self.close_reason})" if not self.is_open
                 else f"open until {self.closes_at:%Y-%m-%d %H:%M:%S %Z}")
        return (f"delta window {self.window_id} of cutover run {self.cutover_run_id} "
                f"(opened {self.opened_at:%Y-%m-%d %H:%M:%S %Z}, {self.hours:g} h): {state}")

    def to_dict(self) -> dict[str, Any]:
        """For XCom: ids, times and counts."""
        return {"window_id": self.window_id, "cutover_run_id": self.cutover_run_id, "source": self.source,
                "format": self.format, "hours": self.hours, "opened_at": self.opened_at.isoformat(),
                "closes_at": self.closes_at.isoformat(), "status": self.status,
                "watermark_at": self.watermark_at.isoformat() if self.watermark_at else None, "runs": self.runs}


_COLUMNS = ("window_id, cutover_run_id, source, format, hours, opened_at, closes_at, status, watermark_at, "
            "dbt_vars, plan, closed_at, close_reason, last_run_id, runs")


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(timezone.utc) if value is not None else None


def _from_row(row: tuple) -> DeltaWindow:
    (window_id, run_id, source, fmt, hours, opened, closes, status, watermark, dbt_vars, plan, closed,
     reason, last_run, runs) = row
    return DeltaWindow(window_id, run_id, source, fmt, float(hours), _utc(opened), _utc(closes), status,
                       _utc(watermark), json.loads(dbt_vars) if dbt_vars else {},
                       LoadPlan.from_json(plan) if plan else None, _utc(closed), reason, last_run, int(runs or 0))


def get_window(window_id: str, warehouse: str | Path | None = None) -> DeltaWindow:
    con = connect(warehouse, read_only=True)
    try:
        row = (con.execute(f"SELECT {_COLUMNS} FROM ops.delta_window WHERE window_id = ?", [window_id]).fetchone()
               if _has_window_table(con) else None)
    finally:
        con.close()
    if row is None:
        raise DeltaWindowError(f"no delta window {window_id!r} in the warehouse")
    return _from_row(row)


def current_window(warehouse: str | Path | None = None) -> DeltaWindow | None:
    """The open window, if any (else None)."""
    path = Path(warehouse) if warehouse else settings.warehouse_path()
    if not path.is_file():
        return None
    con = connect(path, read_only=True)
    try:
        if not _has_window_table(con):
            return None
        row = con.execute(f"SELECT {_COLUMNS} FROM ops.delta_window WHERE status = 'open'"
                          " ORDER BY opened_at DESC LIMIT 1").fetchone()
    finally:
        con.close()
    return _from_row(row) if row else None


def list_windows(warehouse: str | Path | None = None) -> list[DeltaWindow]:
    path = Path(warehouse) if warehouse else settings.warehouse_path()
    if not path.is_file():
        return []
    con = connect(path, read_only=True)
    try:
        rows = (con.execute(f"SELECT {_COLUMNS} FROM ops.delta_window ORDER BY opened_at").fetchall()
                if _has_window_table(con) else [])
    finally:
        con.close()
    return [_from_row(r) for r in rows]


def recorded_files(window_id: str, warehouse: str | Path | None = None,
                   con: duckdb.DuckDBPyConnection | None = None) -> dict[str, FileFingerprint]:
    """The export files' fingerprints at the window's watermark."""
    own = con is None
    con = con or connect(warehouse, read_only=True)
    try:
        rows = con.execute("SELECT name, size, mtime_ns, sha256 FROM ops.delta_files WHERE window_id = ?",
                           [window_id]).fetchall()
    finally:
        if own:
            con.close()
    return {r[0]: FileFingerprint(r[0], int(r[1]), int(r[2]), r[3]) for r in rows}


def load_plan_of_run(run_id: str, journal_root: Path | None = None, warehouse: Path | None = None) -> LoadPlan:
    """The plan the cutover loaded: its journal's run.json, else the dbt manifest beside the
    warehouse, else the project's target/manifest.json."""
    from clinic2zoho.loader.plan import plan_from_manifest

    root = settings.journal_root(journal_root)
    run_file = journal.run_file(root, run_id)
    if run_file.is_file():
        return LoadPlan.from_json(json.dumps(json.loads(run_file.read_text())["plan"]))
    wh = Path(warehouse) if warehouse else settings.warehouse_path()
    for manifest in (wh.parent / f"{wh.stem}.dbt_target" / "manifest.json",
                     settings.DBT_PROJECT_DIR / "target" / "manifest.json"):
        if manifest.is_file():
            return plan_from_manifest(manifest)
    raise DeltaWindowError(f"cutover run {run_id}: no run.json in the journal ({run_file}) and no dbt manifest;"
                           " pass plan= to open_window")


def open_window(run_id: str, hours: float, source: str | Path, format: str, *,
                warehouse: str | Path | None = None, dbt_vars: dict[str, Any] | None = None,
                plan: LoadPlan | None = None, journal_root: Path | None = None,
                now: datetime | None = None) -> DeltaWindow:
    """Open the delta window of cutover run `run_id` for `hours` (24–48) on export `source`.

    Call it once the cutover's load is done (the Zoho-shaped tables hold what was sent): it records
    the row watermark (the last landing batch), the export files' fingerprints and a hash of every
    Zoho-shaped row of the cutover's plan as the baseline. `dbt_vars`: the vars the cutover built
    dbt with (time zone, overrides and merges files), reused by every delta rebuild. `plan`: the
    load plan (default: the cutover run's run.json in the journal). A window already open is closed
    (superseded). Files modified after the cutover's landing are left unrecorded, so the first
    delta run takes them up."""
    if format not in FORMATS:
        raise DeltaWindowError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    if not (MIN_HOURS <= float(hours) <= MAX_HOURS):
        raise DeltaWindowError(f"the delta window lasts {MIN_HOURS} to {MAX_HOURS} hours, got {hours}")
    source_path = Path(source).resolve()
    files = watched_files(source_path)  # raises when the folder is missing
    run_id = journal_safe(run_id)
    now = _utc(now) or utcnow()
    wh = Path(warehouse) if warehouse else settings.warehouse_path()
    plan = plan or load_plan_of_run(run_id, journal_root, wh)
    window_id = f"dw-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    from clinic2zoho.delta.baseline import record_baseline  # the plan's tables -> row hashes

    con = connect(wh)
    try:
        watermark = latest_batch_at(con)
        landed_at = _utc(watermark) or now
        with transaction(con):
            for old in con.execute("SELECT window_id FROM ops.delta_window WHERE status = 'open'").fetchall():
                _close(con, old[0], f"superseded by {window_id}", now)
            con.execute(
                f"INSERT INTO ops.delta_window ({_COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?,"
                " NULL, NULL, NULL, 0, ?)",
                [window_id, run_id, str(source_path), format, float(hours), now, now + timedelta(hours=float(hours)),
                 watermark, json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in (dbt_vars or {}).items()}),
                 plan.to_json(), now])
            stamp = [fingerprint(p) for p in files
                     if datetime.fromtimestamp(p.stat().st_mtime, timezone.utc) <= landed_at]
            _store_files(con, window_id, stamp, now)
            counts = record_baseline(con, window_id, plan, run_id, now)
    finally:
        con.close()
    window = get_window(window_id, wh)
    log.info("%s; baseline %s rows over %d modules; %d of %d export files recorded",
             window.describe(), sum(counts.values()), len(counts), len(stamp), len(files))
    return window


def _store_files(con: duckdb.DuckDBPyConnection, window_id: str, prints: list[FileFingerprint], now: datetime) -> None:
    con.execute("DELETE FROM ops.delta_files WHERE window_id = ?", [window_id])
    if prints:
        con.executemany("INSERT INTO ops.delta_files VALUES (?, ?, ?, ?, ?, ?)",
                        [[window_id, f.name, f.size, f.mtime_ns, f.sha256, now] for f in prints])


def _close(con: duckdb.DuckDBPyConnection, window_id: str, reason: str, now: datetime) -> None:
    con.execute("UPDATE ops.delta_window SET status = 'closed', closed_at = ?, close_reason = ?, updated_at = ?"
                " WHERE window_id = ? AND status = 'open'", [now, reason, now, window_id])


def close_window(window_id: str, reason: str = "closed by hand", *, warehouse: str | Path | None = None,
                 now: datetime | None = None) -> DeltaWindow:
    now = _utc(now) or utcnow()
    con = connect(warehouse)
    try:
        if not con.execute("SELECT count(*) FROM ops.delta_window WHERE window_id = ?", [window_id]).fetchone()[0]:
            raise DeltaWindowError(f"no delta window {window_id!r} in the warehouse")
        _close(con, window_id, reason, now)
    finally:
        con.close()
    window = get_window(window_id, warehouse)
    log.info("%s", window.describe())
    return window


def close_windows_of_run(run_id: str, reason: str, *, warehouse: str | Path | None = None,
                         now: datetime | None = None) -> list[DeltaWindow]:
    """Close the open window of cutover run `run_id` (its rollback: no change is carried into
    an org the cutover was taken out of). Returns the windows closed (none when none was open)."""
    path = Path(warehouse) if warehouse else settings.warehouse_path()
    if not path.is_file():
        return []
    con = connect(path, read_only=True)
    try:
        ids = ([r[0] for r in con.execute("SELECT window_id FROM ops.delta_window WHERE status = 'open'"
                                          " AND cutover_run_id = ?", [journal_safe(run_id)]).fetchall()]
               if _has_window_table(con) else [])
    finally:
        con.close()
    return [close_window(window_id, reason, warehouse=path, now=now) for window_id in ids]


@dataclass(frozen=True)
class WindowCheck:
    """What a delta run should do: `run` (the window is open), `closed_now` (its time passed and
    this check closed it), or `none` (no open window)."""

    action: str
    window: DeltaWindow | None
    message: str

    @property
    def proceed(self) -> bool:
        return self.action == "run"


def check_window(warehouse: str | Path | None = None, now: datetime | None = None) -> WindowCheck:
    """The first step of every delta run: find the open window and close it when its time passed."""
    now = _utc(now) or utcnow()
    window = current_window(warehouse)
    if window is None:
        return WindowCheck("none", None, "no open delta window: nothing to do")
    if window.expired(now):
        closed = close_window(window.window_id, f"window of {window.hours:g} h passed", warehouse=warehouse, now=now)
        return WindowCheck("closed_now", closed, f"{closed.describe()}; later runs skip")
    return WindowCheck("run", window, window.describe())
