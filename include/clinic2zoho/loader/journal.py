"""The load journal, kept in DuckDB.

DuckDB allows one writing process per file, and modules load in parallel (threads of one CLI
process, or separate Airflow tasks). So every (run, module) writes its own segment file
`<journal root>/<run id>/<module>.duckdb`, and every loading process appends its audit log to its
own `audit-<token>.duckdb` there. `JournalReader` attaches the segments read-only and unions them
into views; `publish` copies a run into the warehouse's `ops` schema for SQL by reports. Beside
them, `org.json` says which Zoho org the run loads (run_org): the readers that feed a load are
given the runs of that org only.

Row states: intent (written before the remote call) -> sent (call under way; bulk job id known) ->
done | rejected | skipped; a row waiting for a pending record it points to stays intent with no
path (never sent). A crash at any instant leaves each row in a state that resume can
reconcile against Zoho (read back by external id, or the parent's notes and attachments)."""

from __future__ import annotations

import functools
import json
import re
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

import duckdb
import pyarrow as pa

JOURNAL_DDL = """
CREATE TABLE IF NOT EXISTS load_journal (
    run_id VARCHAR NOT NULL, module VARCHAR NOT NULL, source_key VARCHAR NOT NULL,
    zoho_id VARCHAR, operation VARCHAR, before_image VARCHAR, status VARCHAR NOT NULL,
    error_code VARCHAR, error_field VARCHAR, error VARCHAR, path VARCHAR,
    batch_id VARCHAR, job_id VARCHAR, parent_module VARCHAR, parent_id VARCHAR, label VARCHAR,
    attempts INTEGER DEFAULT 0, created_at TIMESTAMPTZ DEFAULT now(), updated_at TIMESTAMPTZ DEFAULT now(),
    PRIMARY KEY (run_id, module, source_key));
CREATE TABLE IF NOT EXISTS load_rejects (
    run_id VARCHAR, module VARCHAR, source_key VARCHAR, code VARCHAR, field VARCHAR,
    message VARCHAR, rejected_at TIMESTAMPTZ DEFAULT now());
CREATE TABLE IF NOT EXISTS bulk_jobs (
    run_id VARCHAR, module VARCHAR, batch_id VARCHAR, job_id VARCHAR, file_id VARCHAR,
    operation VARCHAR, rows INTEGER, status VARCHAR, created_at TIMESTAMPTZ DEFAULT now(),
    updated_at TIMESTAMPTZ DEFAULT now(), PRIMARY KEY (run_id, module, batch_id));
CREATE TABLE IF NOT EXISTS rollback_journal (
    run_id VARCHAR NOT NULL, module VARCHAR NOT NULL, source_key VARCHAR NOT NULL, zoho_id VARCHAR,
    action VARCHAR, status VARCHAR, error VARCHAR, updated_at TIMESTAMPTZ DEFAULT now(),
    PRIMARY KEY (run_id, module, source_key));
"""
AUDIT_DDL = """
CREATE TABLE IF NOT EXISTS audit_log (
    run_id VARCHAR, called_at TIMESTAMPTZ DEFAULT now(), method VARCHAR, path VARCHAR, module VARCHAR,
    record_count INTEGER, credits INTEGER, status INTEGER, outcome VARCHAR, duration_ms DOUBLE);
"""
SEGMENT_TABLES = ("load_journal", "load_rejects", "bulk_jobs", "rollback_journal")
FINAL = ("done", "rejected", "skipped")
_SAFE = re.compile(r"^[A-Za-z0-9_.-]+$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def safe_run_id(run_id: str) -> str:
    """A run id as the journal, the reports' file names and the work folder keep it: Airflow's run
    ids hold ':' and '+' (unsafe in paths); those become '_'."""
    return _UNSAFE.sub("_", run_id.strip())


def _check_name(kind: str, value: str) -> str:
    if not _SAFE.match(value):
        raise ValueError(f"{kind} {value!r} may hold only letters, digits, '_', '.', '-'")
    return value


def run_dir(root: Path, run_id: str) -> Path:
    return Path(root) / _check_name("run id", run_id)


def run_file(root: Path, run_id: str) -> Path:
    """The run's plan and prediction (run.json), which the reports, rollback and delta read."""
    return run_dir(root, run_id) / "run.json"


def write_run_file(root: Path, run_id: str, plan_json: str, predicted: dict[str, Any] | None) -> dict[str, Any] | None:
    """run.json for a new run; a run that has one (a resume, a retried task) keeps its first plan and
    prediction. Returns the prediction the file holds."""
    path = run_file(root, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return json.loads(path.read_text()).get("estimate")
    path.write_text(json.dumps({"run_id": run_id, "started_at": datetime.now(timezone.utc).isoformat(),
                                "plan": json.loads(plan_json), "estimate": predicted}, indent=1))
    return predicted


@dataclass
class Entry:
    """One row of the journal as resume sees it."""

    source_key: str
    status: str
    zoho_id: str | None
    operation: str | None
    before_image: dict | None
    path: str | None
    batch_id: str | None
    job_id: str | None
    parent_id: str | None
    attempts: int
    label: str | None = None  # a note's title / an attachment's file name: how Zoho shows the child
    parent_module: str | None = None


@dataclass
class _Write:
    """One caller's rows for a statement, waiting for a transaction (JournalSegment._apply)."""

    statement: str
    rows: list[dict]
    committed: bool = False
    error: BaseException | None = None


class JournalSegment:
    """The writer of one (run, module) segment. Thread-safe: one lock around its connection."""

    def __init__(self, root: Path, run_id: str, module: str):
        self.run_id = run_id
        self.module = _check_name("module", module)
        self.path = run_dir(root, run_id) / f"{module}.duckdb"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect(str(self.path))
        self._con.execute(JOURNAL_DDL)
        self._lock = threading.Lock()
        self._queued: list[_Write] = []  # writes waiting for the connection (see _apply)
        self._queue_lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> "JournalSegment":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- reading -------------------------------------------------------------------------
    def entries(self) -> dict[str, Entry]:
        with self._lock:
            rows = self._con.execute(
                "SELECT source_key, status, zoho_id, operation, before_image, path, batch_id, job_id,"
                " parent_id, attempts, label, parent_module FROM load_journal WHERE run_id = ? AND module = ?",
                [self.run_id, self.module],
            ).fetchall()
        return {
            r[0]: Entry(r[0], r[1], r[2], r[3], json.loads(r[4]) if r[4] else None, r[5], r[6], r[7], r[8], r[9] or 0,
                        r[10], r[11])
            for r in rows
        }

    def jobs(self) -> list[dict]:
        with self._lock:
            cur = self._con.execute(
                "SELECT batch_id, job_id, file_id, operation, rows, status FROM bulk_jobs"
                " WHERE run_id = ? AND module = ? ORDER BY created_at", [self.run_id, self.module])
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, r)) for r in cur.fetchall()]

    def sql(self, query: str, params: list | None = None) -> list[tuple]:
        with self._lock:
            return self._con.execute(query, params or []).fetchall()

    # --- writing -------------------------------------------------------------------------
    def _apply(self, rows: list[dict], statement: str) -> None:
        """Write `rows` (as the table `_batch`) with `statement`; returns once they are committed.

        Group commit: threads loading one call each (attachments) would otherwise queue for the
        connection one transaction each, about 3-7 ms apiece. A thread that finds the connection
        busy queues its write; the next to hold it commits every queued write in one transaction,
        each statement once over the rows of all its writes (a statement never embeds a value
        that varies between writes). Each caller still returns only after its own rows are
        committed, so the journal stays ahead of every remote call. Writes that meet in one
        transaction are of different rows (a thread writes its next state of a row only after the
        last one returned); if the joint transaction fails, each write is retried alone and only
        the failing one raises."""
        if not rows:
            return
        write = _Write(statement, rows)
        with self._queue_lock:
            self._queued.append(write)
        with self._lock:
            if not write.committed:
                with self._queue_lock:
                    writes, self._queued = self._queued, []
                self._commit(writes)
        if write.error is not None:
            raise write.error

    def _commit(self, writes: list["_Write"]) -> None:
        by_statement: dict[str, list[dict]] = {}
        for write in writes:
            by_statement.setdefault(write.statement, []).extend(write.rows)
        try:
            try:
                self._transaction(list(by_statement.items()))
            except Exception as joint:
                if len(writes) == 1:
                    writes[0].error = joint
                else:
                    for write in writes:
                        try:
                            self._transaction([(write.statement, write.rows)])
                        except Exception as exc:
                            write.error = exc
        except BaseException as interrupted:
            # the holder stopped midway (KeyboardInterrupt): a write it took from the queue is no
            # longer there for its caller to commit, so none may pass for committed
            for write in writes:
                write.error = write.error or interrupted
            raise
        finally:
            for write in writes:
                write.committed = True

    def _transaction(self, statements: list[tuple[str, list[dict]]]) -> None:
        self._con.execute("BEGIN")
        try:
            for statement, rows in statements:
                self._con.register("_batch", pa.Table.from_pylist(rows))
                self._con.execute(statement)
                self._con.unregister("_batch")
            self._con.execute("COMMIT")
        except Exception:
            self._con.execute("ROLLBACK")  # first: an aborted transaction refuses even unregister
            self._con.unregister("_batch")
            raise

    def intent(self, rows: Iterable[dict], path: str, batch_id: str) -> None:
        """Before any remote call: source_key, operation, zoho_id (known for updates), before_image
        (dict or None), parent_id."""
        _check_name("batch id", batch_id)
        payload = [
            {
                "source_key": r["source_key"],
                "operation": r.get("operation"),
                "zoho_id": r.get("zoho_id"),
                "before_image": json.dumps(r["before_image"], sort_keys=True, default=str)
                if r.get("before_image") is not None else None,
                "parent_id": r.get("parent_id"),
                "label": r.get("label"),
                "parent_module": r.get("parent_module"),
                "path": path,
                "batch_id": batch_id,
            }
            for r in rows
        ]
        self._apply(payload, f"""
            INSERT INTO load_journal (run_id, module, source_key, zoho_id, operation, before_image, status,
                                      path, batch_id, parent_module, parent_id, label, attempts)
            SELECT '{self.run_id}', '{self.module}', source_key, zoho_id, operation, before_image, 'intent',
                   path, batch_id, parent_module, parent_id, label, 1 FROM _batch
            ON CONFLICT (run_id, module, source_key) DO UPDATE SET
                status = 'intent', operation = excluded.operation, path = excluded.path,
                batch_id = excluded.batch_id, job_id = NULL, error = NULL, error_code = NULL, error_field = NULL,
                zoho_id = coalesce(excluded.zoho_id, load_journal.zoho_id),
                before_image = coalesce(load_journal.before_image, excluded.before_image),
                parent_id = excluded.parent_id, label = excluded.label, parent_module = excluded.parent_module,
                attempts = load_journal.attempts + 1, updated_at = now()""")

    def sent(self, keys: list[str], job_id: str | None = None) -> None:
        if job_id:
            _check_name("job id", job_id)
        self._apply([{"source_key": k, "job_id": job_id} for k in keys], f"""
            UPDATE load_journal SET status = 'sent', updated_at = now(),
                   job_id = coalesce(_batch.job_id, load_journal.job_id)
            FROM _batch WHERE load_journal.run_id = '{self.run_id}' AND load_journal.module = '{self.module}'
              AND load_journal.source_key = _batch.source_key""")

    def done(self, items: list[dict]) -> None:
        """items: source_key, zoho_id, operation."""
        self._apply(items, f"""
            UPDATE load_journal SET status = 'done', zoho_id = _batch.zoho_id,
                   operation = coalesce(_batch.operation, load_journal.operation),
                   error = NULL, error_code = NULL, error_field = NULL, updated_at = now()
            FROM _batch WHERE load_journal.run_id = '{self.run_id}' AND load_journal.module = '{self.module}'
              AND load_journal.source_key = _batch.source_key""")

    def reject(self, items: list[dict], status: str = "rejected") -> None:
        """items: source_key, code, field, message. Rejected rows also land in load_rejects;
        skipped rows (a rule kept them from Zoho) carry their reason in the journal only."""
        if not items:
            return
        norm = [{"source_key": i["source_key"], "code": i.get("code"), "field": i.get("field"),
                 "message": i.get("message")} for i in items]
        # One transaction: a row journaled rejected is final (resume never rejects it again), so a
        # crash between the journal row and its load_rejects row would leave it listed nowhere.
        # Rows rejected before any intent (e.g. a lookup that did not resolve) get a journal row too.
        statement = f"""
            INSERT INTO load_journal (run_id, module, source_key, status, attempts)
            SELECT '{self.run_id}', '{self.module}', source_key, 'intent', 0 FROM _batch
            ON CONFLICT DO NOTHING;
            UPDATE load_journal SET status = '{status}', error_code = _batch.code, error_field = _batch.field,
                   error = _batch.message, updated_at = now()
            FROM _batch WHERE load_journal.run_id = '{self.run_id}' AND load_journal.module = '{self.module}'
              AND load_journal.source_key = _batch.source_key"""
        if status == "rejected":
            statement += f""";
                DELETE FROM load_rejects WHERE run_id = '{self.run_id}' AND module = '{self.module}'
                  AND source_key IN (SELECT source_key FROM _batch);
                INSERT INTO load_rejects (run_id, module, source_key, code, field, message)
                SELECT '{self.run_id}', '{self.module}', source_key, code, field, message FROM _batch"""
        self._apply(norm, statement)

    def wait(self, items: list[dict]) -> None:
        """Rows not sent because a record they point to is itself pending after a transient failure
        (items: source_key, code, field, message): they stay pending (intent, no path: never sent)
        with the reason, so the run ends pending and a resume sends them once that record loads."""
        if not items:
            return
        norm = [{"source_key": i["source_key"], "code": i.get("code"), "field": i.get("field"),
                 "message": i.get("message")} for i in items]
        self._apply(norm, f"""
            INSERT INTO load_journal (run_id, module, source_key, status, attempts)
            SELECT '{self.run_id}', '{self.module}', source_key, 'intent', 0 FROM _batch
            ON CONFLICT DO NOTHING;
            UPDATE load_journal SET error_code = _batch.code, error_field = _batch.field, error = _batch.message,
                   updated_at = now()
            FROM _batch WHERE load_journal.run_id = '{self.run_id}' AND load_journal.module = '{self.module}'
              AND load_journal.source_key = _batch.source_key AND load_journal.status IN ('intent', 'sent')""")

    def record_job(self, batch_id: str, job_id: str, file_id: str | None, operation: str, rows: int, status: str) -> None:
        with self._lock:
            self._con.execute(
                "INSERT INTO bulk_jobs (run_id, module, batch_id, job_id, file_id, operation, rows, status)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, module, batch_id) DO UPDATE SET"
                " job_id = excluded.job_id, file_id = excluded.file_id, status = excluded.status, updated_at = now()",
                [self.run_id, self.module, batch_id, job_id, file_id, operation, rows, status])

    def job_status(self, batch_id: str, status: str) -> None:
        with self._lock:
            self._con.execute(
                "UPDATE bulk_jobs SET status = ?, updated_at = now() WHERE run_id = ? AND module = ? AND batch_id = ?",
                [status, self.run_id, self.module, batch_id])

    # --- rollback ------------------------------------------------------------------------
    def rollback_entries(self) -> dict[str, tuple[str, str | None]]:
        with self._lock:
            rows = self._con.execute(
                "SELECT source_key, status, error FROM rollback_journal WHERE run_id = ? AND module = ?",
                [self.run_id, self.module]).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def rollback_mark(self, items: list[dict], status: str) -> None:
        """items: source_key, zoho_id, action, error."""
        norm = [{"source_key": i["source_key"], "zoho_id": i.get("zoho_id"), "action": i.get("action"),
                 "error": i.get("error")} for i in items]
        self._apply(norm, f"""
            INSERT INTO rollback_journal (run_id, module, source_key, zoho_id, action, status, error)
            SELECT '{self.run_id}', '{self.module}', source_key, zoho_id, action, '{status}', error FROM _batch
            ON CONFLICT (run_id, module, source_key) DO UPDATE SET status = excluded.status,
                error = excluded.error, action = excluded.action, updated_at = now()""")


_scope = threading.local()
# Schema preparation's calls share the run's audit log under this name, apart from the load's modules.
SCHEMA_SCOPE = "(schema)"


class audit_scope:
    """Attribute the calls made by this thread to a loading module (an attachment upload goes to
    `Contacts/{id}/Attachments`, but it is the Attachments load that spends the credit)."""

    def __init__(self, module: str | None):
        self.module = module

    def __enter__(self) -> None:
        self.previous = getattr(_scope, "module", None)
        _scope.module = self.module

    def __exit__(self, *exc) -> None:
        _scope.module = self.previous


def current_module() -> str | None:
    """The loading module this thread works for (set by audit_scope), or None."""
    return getattr(_scope, "module", None)


class AuditLog:
    """Append-only log of every remote call, one file per writing process. Holds what, when, how
    many records, credits and outcome — never a payload, never a query string (criteria can hold
    patient data)."""

    def __init__(self, root: Path, run_id: str):
        self.run_id = run_id
        self.path = run_dir(root, run_id) / f"audit-{uuid.uuid4().hex[:12]}.duckdb"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect(str(self.path))
        self._con.execute(AUDIT_DDL)
        self._lock = threading.Lock()
        self._closed = False

    def __call__(self, event) -> None:
        path = str(getattr(event, "path", "") or "").split("?", 1)[0]
        status = getattr(event, "status", None)
        outcome = getattr(event, "outcome", None) or getattr(event, "error", None)
        if outcome is None:
            outcome = "ok" if isinstance(status, int) and status < 400 else "error"
        duration = getattr(event, "duration", None)
        with self._lock:
            if self._closed:
                return
            self._con.execute(
                "INSERT INTO audit_log (run_id, method, path, module, record_count, credits, status, outcome, duration_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [self.run_id, getattr(event, "method", None), path,
                 getattr(_scope, "module", None) or getattr(event, "module", None),
                 getattr(event, "record_count", None), getattr(event, "credits", None),
                 status if isinstance(status, int) else None, str(outcome)[:200],
                 float(duration) * 1000 if duration is not None else None])

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._con.close()


@functools.cache
def _columns() -> dict[str, list[tuple[str, str]]]:
    con = duckdb.connect()
    try:
        con.execute(JOURNAL_DDL + AUDIT_DDL)
        return {t: [(r[0], r[1]) for r in con.execute(f"DESCRIBE {t}").fetchall()]
                for t in SEGMENT_TABLES + ("audit_log",)}
    finally:
        con.close()


_shared_database: duckdb.DuckDBPyConnection | None = None  # while a shared_reading() block runs
_sharing_blocks = 0
_sharing_lock = threading.Lock()


@contextmanager
def shared_reading() -> Iterator[None]:
    """Journal readers opened inside the block, in any thread, share one in-memory DuckDB database
    (a connection each): starting a database costs some 15 ms of CPU, a connection to a running
    one almost nothing, and a load reads the journal for each module's crosswalk and pending keys.
    The database is let go when the last block ends, so none outlives the work (a process forked
    later would inherit a DuckDB database whose threads are not in it)."""
    global _shared_database, _sharing_blocks
    with _sharing_lock:
        if _sharing_blocks == 0:
            _shared_database = duckdb.connect()
        _sharing_blocks += 1
    try:
        yield
    finally:
        with _sharing_lock:
            _sharing_blocks -= 1
            if _sharing_blocks == 0:
                # not closed: a reader still open keeps its connection, and the database closes
                # with the last of them
                _shared_database = None


def _reading_connection() -> duckdb.DuckDBPyConnection:
    """A connection to the shared database inside shared_reading(), else a database of its own."""
    with _sharing_lock:
        if _shared_database is not None:
            return _shared_database.cursor()
    return duckdb.connect()


class JournalReader:
    """Read-only SQL over every segment under the journal root: views load_journal, load_rejects,
    bulk_jobs, rollback_journal and audit_log union all the runs (or the runs given)."""

    def __init__(self, root: Path, runs: list[str] | None = None, modules: list[str] | None = None):
        self.root = Path(root)
        self.con = _reading_connection()
        self._attached: list[str] = []
        try:
            self._attach(runs, modules)
        except BaseException:
            self.close()
            raise

    def _attach(self, runs: list[str] | None, modules: list[str] | None) -> None:
        segs: dict[str, list[str]] = {t: [] for t in SEGMENT_TABLES + ("audit_log",)}
        # runs=[] reads no run (a list of one org's runs may be empty), runs=None every run
        run_dirs = ([run_dir(self.root, r) for r in runs] if runs is not None
                    else sorted(p for p in self.root.glob("*") if p.is_dir()))
        prefix = f"r{uuid.uuid4().hex[:12]}"  # the process's readers share one database's names
        for i, d in enumerate(run_dirs):
            for j, f in enumerate(sorted(d.glob("*.duckdb"))):
                is_audit = f.stem.startswith("audit-")
                # A module filter means "these modules' rows": audit files (maybe open for writing
                # in this very process) stay out.
                if modules is not None and (is_audit or f.stem not in modules):
                    continue
                alias = f"{prefix}_{i}_{j}"
                self.con.execute(f"ATTACH '{f}' AS {alias} (READ_ONLY)")
                self._attached.append(alias)
                # A process killed right after creating its file leaves it without tables: empty.
                present = {r[0] for r in self.con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [alias]).fetchall()}
                for t in (("audit_log",) if is_audit else SEGMENT_TABLES):
                    if t in present:
                        segs[t].append(f"SELECT * FROM {alias}.main.{t}")
        for t, parts in segs.items():
            if not parts:  # an empty view with the right columns
                parts = ["SELECT " + ", ".join(f"NULL::{ty} AS {name}" for name, ty in _columns()[t]) + " WHERE false"]
            # a temporary view is this reader's connection's own
            self.con.execute(f"CREATE TEMP VIEW {t} AS " + " UNION ALL BY NAME ".join(parts))

    def sql(self, query: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(query, params or []).fetchall()

    def dicts(self, query: str, params: list | None = None) -> list[dict]:
        cur = self.con.execute(query, params or [])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def close(self) -> None:
        try:
            for alias in self._attached:
                self.con.execute(f"DETACH {alias}")
        finally:
            self._attached = []
            self.con.close()

    def __enter__(self) -> "JournalReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def crosswalk_and_failures(root: Path, module: str, runs: list[str]) -> tuple[dict[str, str], set[str]]:
    """For `module`, from the journals of `runs` (the runs of one org: run_org.runs_of): source
    key -> Zoho id (rows done and not rolled back), and the keys that never loaded (rejected or
    skipped in every one of those runs)."""
    with JournalReader(root, runs=runs, modules=[module]) as reader:
        rows = reader.sql(
            """SELECT j.source_key, j.zoho_id FROM load_journal j
               LEFT JOIN rollback_journal r USING (run_id, module, source_key)
               WHERE j.module = ? AND j.status = 'done' AND j.zoho_id IS NOT NULL
                 AND (r.status IS NULL OR r.status <> 'done')
               ORDER BY j.updated_at""", [module])
        failed = reader.sql(
            """SELECT source_key FROM load_journal WHERE module = ?
               GROUP BY source_key HAVING bool_and(status IN ('rejected', 'skipped'))""", [module])
    return {k: v for k, v in rows}, {r[0] for r in failed}


def pending_keys(root: Path, module: str, runs: list[str]) -> set[str]:
    """Keys of `module` whose latest journal row, over `runs` (one org's), is still pending
    (intent/sent): a row pointing to one waits for it instead of being rejected."""
    with JournalReader(root, runs=runs, modules=[module]) as reader:
        rows = reader.sql(
            """SELECT source_key FROM load_journal WHERE module = ? GROUP BY source_key
               HAVING arg_max(status, updated_at) IN ('intent', 'sent')""", [module])
    return {r[0] for r in rows}


def crosswalk(root: Path, module: str, runs: list[str]) -> dict[str, str]:
    return crosswalk_and_failures(root, module, runs)[0]


OPS_TABLES = SEGMENT_TABLES + ("audit_log",)


def publish(root: Path, warehouse: Path, run_id: str) -> dict[str, int]:
    """Copy one run's segments into the warehouse schema `ops` (replacing that run's rows there), so
    reports query `ops.load_journal`, `ops.load_rejects`, `ops.audit_log` with plain SQL. Call it
    from a single writer once the run's loading tasks are done."""
    counts: dict[str, int] = {}
    _check_name("run id", run_id)
    reader = JournalReader(root, runs=[run_id])
    try:
        con = duckdb.connect(str(warehouse))
        try:
            con.execute("CREATE SCHEMA IF NOT EXISTS ops")
            con.execute("BEGIN")
            for t in OPS_TABLES:
                data = reader.con.sql(f"SELECT * FROM {t} WHERE run_id = '{run_id}'").to_arrow_table()
                con.register("_seg", data)
                con.execute(f"CREATE TABLE IF NOT EXISTS ops.{t} AS SELECT * FROM _seg LIMIT 0")
                con.execute(f"DELETE FROM ops.{t} WHERE run_id = ?", [run_id])
                con.execute(f"INSERT INTO ops.{t} BY NAME SELECT * FROM _seg")
                con.unregister("_seg")
                counts[t] = data.num_rows
            con.execute("COMMIT")
        finally:
            con.close()
    finally:
        reader.close()
    return counts


def runs(root: Path) -> Iterator[str]:
    for p in sorted(Path(root).glob("*")):
        if p.is_dir():
            yield p.name
