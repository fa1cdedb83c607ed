"""Row-level change detection on the Zoho-shaped tables: the baseline holds, per module and
source key, a hash of the row last sent to Zoho; a delta run stages into schema `delta` the rows
that are new or whose hash moved, and once they reached a final journal status their hashes
become the baseline.

The key is the loader's: the module's external id; Note_Title for notes, the file name for
attachments (they have no external id). Notes and attachments are never updated in place by the
loader, so for them only new keys are staged; changed ones are counted (`children_changed`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

import duckdb

from clinic2zoho.loader.plan import LoadPlan, ModuleSpec

log = logging.getLogger(__name__)

DELTA_SCHEMA = "delta"

PENDING_SQL = """
CREATE TABLE IF NOT EXISTS ops.delta_pending (
    window_id VARCHAR NOT NULL, run_id VARCHAR NOT NULL, module VARCHAR NOT NULL,
    source_key VARCHAR NOT NULL, row_hash UBIGINT NOT NULL);
"""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def key_column(spec: ModuleSpec) -> str:
    if spec.external_id:
        return spec.external_id
    return "Note_Title" if spec.kind == "note" else spec.file_name_column


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".", 1)
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                            [schema, name]).fetchone()[0])


def keyed_rows_sql(con: duckdb.DuckDBPyConnection, spec: ModuleSpec) -> str:
    """`spec.table` with `__key` (the loader's source key) and `__hash` (over the content columns:
    names starting with `_` are helpers the loader never sends)."""
    columns = [d[0] for d in con.execute(f"SELECT * FROM {spec.table} LIMIT 0").description]
    content = sorted(c for c in columns if not c.startswith("_"))
    key = key_column(spec)
    if key not in columns:
        raise ValueError(f"{spec.table}: key column {key} of module {spec.module} not found")
    return (f"SELECT t.*, CAST(t.{_q(key)} AS VARCHAR) AS __key, hash({', '.join(_q(c) for c in content)}) AS __hash"
            f" FROM {spec.table} t WHERE t.{_q(key)} IS NOT NULL AND CAST(t.{_q(key)} AS VARCHAR) <> ''")


def record_baseline(con: duckdb.DuckDBPyConnection, window_id: str, plan: LoadPlan, run_id: str,
                    now: datetime) -> dict[str, int]:
    """Hash every row of the plan's tables as the window's baseline (one row per key)."""
    con.execute("DELETE FROM ops.delta_baseline WHERE window_id = ?", [window_id])
    counts: dict[str, int] = {}
    for spec in plan.specs:
        if not table_exists(con, spec.table):
            log.warning("baseline: %s (module %s) is not in the warehouse; every row of it will read as new",
                        spec.table, spec.module)
            counts[spec.module] = 0
            continue
        con.execute(
            f"INSERT INTO ops.delta_baseline SELECT ?, ?, __key, any_value(__hash), ?, ?"
            f" FROM ({keyed_rows_sql(con, spec)}) GROUP BY __key", [window_id, spec.module, run_id, now])
        counts[spec.module] = con.execute("SELECT count(*) FROM ops.delta_baseline WHERE window_id = ? AND module = ?",
                                          [window_id, spec.module]).fetchone()[0]
    return counts


@dataclass
class StagedDelta:
    """What one delta run stages: per module, rows new and changed (to send), children changed in
    place (not sent: the loader adds notes and attachments, never rewrites them) and keys gone from
    the export (reported; nothing is deleted in Zoho)."""

    plan: LoadPlan  # the window's plan with each table replaced by its `delta.*` table
    new: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    children_changed: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)

    def modules_to_load(self) -> list[str]:
        """Modules with rows to send, in load order."""
        wanted = {m for m in self.plan.modules() if self.new.get(m, 0) + self.changed.get(m, 0)}
        return [m for m in self.plan.order() if m in wanted]

    def to_dict(self) -> dict:
        return {"modules": self.modules_to_load(), "new": self.new, "changed": self.changed,
                "children_changed": self.children_changed, "removed": self.removed}


def stage_changes(con: duckdb.DuckDBPyConnection, window_id: str, run_id: str, plan: LoadPlan) -> StagedDelta:
    """Write `delta.<table>` for every module of the plan (empty when nothing changed) and the
    staged keys' hashes into `ops.delta_pending`."""
    con.execute(PENDING_SQL)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {DELTA_SCHEMA}")
    con.execute("DELETE FROM ops.delta_pending WHERE window_id = ? AND run_id = ?", [window_id, run_id])
    staged = StagedDelta(plan=plan)
    specs = []
    for spec in plan.specs:
        target = f"{DELTA_SCHEMA}.{spec.table.split('.', 1)[1]}"
        specs.append(replace(spec, table=target))
        if not table_exists(con, spec.table):
            log.warning("delta: %s (module %s) is not in the warehouse; nothing staged", spec.table, spec.module)
            con.execute(f"DROP TABLE IF EXISTS {target}")
            continue
        child = spec.kind != "record"
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE delta_cur AS
                SELECT c.*, b.row_hash AS __before FROM ({keyed_rows_sql(con, spec)}) c
                LEFT JOIN (SELECT source_key, row_hash FROM ops.delta_baseline WHERE window_id = ? AND module = ?) b
                ON b.source_key = c.__key""", [window_id, spec.module])
        new, changed = con.execute("SELECT count(*) FILTER (__before IS NULL),"
                                   " count(*) FILTER (__before IS NOT NULL AND __before <> __hash) FROM delta_cur"
                                   ).fetchone()
        send = "__before IS NULL" if child else "__before IS NULL OR __before <> __hash"
        con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * EXCLUDE (__key, __hash, __before)"
                    f" FROM delta_cur WHERE {send}")
        con.execute(f"INSERT INTO ops.delta_pending SELECT ?, ?, ?, __key, any_value(__hash) FROM delta_cur"
                    f" WHERE {send} GROUP BY __key", [window_id, run_id, spec.module])
        removed = con.execute("SELECT count(*) FROM ops.delta_baseline b WHERE window_id = ? AND module = ?"
                              " AND NOT EXISTS (SELECT 1 FROM delta_cur c WHERE c.__key = b.source_key)",
                              [window_id, spec.module]).fetchone()[0]
        con.execute("DROP TABLE delta_cur")
        staged.new[spec.module] = int(new)
        staged.changed[spec.module] = 0 if child else int(changed)
        if child and changed:
            staged.children_changed[spec.module] = int(changed)
        if removed:
            staged.removed[spec.module] = int(removed)
    staged.plan = LoadPlan(tuple(specs))
    return staged


def commit_sent(con: duckdb.DuckDBPyConnection, window_id: str, run_id: str, final_keys: list[tuple[str, str]],
                now: datetime) -> int:
    """Make the staged hashes of keys that reached a final journal status (done, rejected,
    skipped) the baseline; keys still pending stay staged for a retry of the run."""
    con.execute(PENDING_SQL)
    con.execute("CREATE OR REPLACE TEMP TABLE delta_final (module VARCHAR, source_key VARCHAR)")
    if final_keys:
        con.executemany("INSERT INTO delta_final VALUES (?, ?)", [list(k) for k in final_keys])
    con.execute("""CREATE OR REPLACE TEMP TABLE delta_commit AS
                   SELECT p.module, p.source_key, p.row_hash FROM ops.delta_pending p
                   JOIN delta_final f USING (module, source_key)
                   WHERE p.window_id = ? AND p.run_id = ?""", [window_id, run_id])
    n = con.execute("SELECT count(*) FROM delta_commit").fetchone()[0]
    con.execute("""DELETE FROM ops.delta_baseline b WHERE window_id = ?
                   AND EXISTS (SELECT 1 FROM delta_commit c WHERE c.module = b.module AND c.source_key = b.source_key)""",
                [window_id])
    con.execute("INSERT INTO ops.delta_baseline SELECT ?, module, source_key, row_hash, ?, ? FROM delta_commit",
                [window_id, run_id, now])
    con.execute("""DELETE FROM ops.delta_pending p WHERE window_id = ? AND run_id = ?
                   AND EXISTS (SELECT 1 FROM delta_commit c WHERE c.module = p.module AND c.source_key = p.source_key)""",
                [window_id, run_id])
    con.execute("DROP TABLE delta_final")
    con.execute("DROP TABLE delta_commit")
    return int(n)
