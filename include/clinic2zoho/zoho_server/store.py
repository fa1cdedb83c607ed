"""The server's state: held in memory for speed and written through to one SQLite file (WAL), so
every answered write survives a crash or restart of the server process."""

from __future__ import annotations

import json
import sqlite3
import time
from collections import deque
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from . import schema
from .schema import FieldSpec
from .settings import DEFAULTS, merge

DDL = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, seq INTEGER, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS modules (api_name TEXT PRIMARY KEY, seq INTEGER, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fields (module TEXT, api_name TEXT, seq INTEGER, json TEXT NOT NULL,
    PRIMARY KEY (module, api_name));
CREATE TABLE IF NOT EXISTS records (module TEXT, id TEXT, json TEXT NOT NULL, PRIMARY KEY (module, id));
CREATE TABLE IF NOT EXISTS attachments (id TEXT PRIMARY KEY, module TEXT, record_id TEXT, meta TEXT NOT NULL,
    content BLOB);
CREATE TABLE IF NOT EXISTS uploads (file_id TEXT PRIMARY KEY, created REAL, name TEXT, content BLOB);
CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS job_rows (job_id TEXT, row_no INTEGER, status TEXT, record_id TEXT, errors TEXT,
    PRIMARY KEY (job_id, row_no));
CREATE TABLE IF NOT EXISTS results (job_id TEXT PRIMARY KEY, content BLOB);
CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, expires REAL);
CREATE TABLE IF NOT EXISTS credits (ts REAL, cost INTEGER);
"""
ID_BASE = 5_725_767_000_000_000_000  # Zoho ids are 19-digit numbers


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def norm_key(value: Any) -> str:
    """Unique and duplicate checks ignore case and surrounding blanks, as Zoho's do by default."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value).strip().lower()


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(DDL)
        self.kv: dict[str, Any] = {k: json.loads(v) for k, v in self.conn.execute("SELECT key, value FROM kv")}
        self._dirty_kv: set[str] = set()
        self.settings: dict[str, Any] = merge(DEFAULTS, self.kv.get("settings", {}))
        self.users: list[dict[str, Any]] = [json.loads(j) for (j,) in self.conn.execute("SELECT json FROM users ORDER BY seq")]
        self.modules: dict[str, dict[str, Any]] = {
            a: json.loads(j) for a, j in self.conn.execute("SELECT api_name, json FROM modules ORDER BY seq")}
        self.fields: dict[str, list[dict[str, Any]]] = {m: [] for m in self.modules}
        for m, j in self.conn.execute("SELECT module, json FROM fields ORDER BY module, seq"):
            self.fields.setdefault(m, []).append(json.loads(j))
        self.records: dict[str, dict[str, dict[str, Any]]] = {m: {} for m in self.modules}
        for m, i, j in self.conn.execute("SELECT module, id, json FROM records ORDER BY rowid"):
            self.records.setdefault(m, {})[i] = json.loads(j)
        self.tokens: dict[str, float] = dict(self.conn.execute("SELECT token, expires FROM tokens"))
        self.credit_log: deque[tuple[float, int]] = deque(self.conn.execute("SELECT ts, cost FROM credits ORDER BY ts"))
        self.jobs: dict[str, dict[str, Any]] = {i: json.loads(j) for i, j in self.conn.execute("SELECT id, json FROM jobs")}
        self.specs: dict[str, dict[str, FieldSpec]] = {}
        self.mandatory: dict[str, list[str]] = {}
        self.unique_keys: dict[str, list[str]] = {}
        self.index_keys: dict[str, list[str]] = {}
        self._pending: list[tuple[str, str, str]] = []
        self._iso_cache: tuple[int, str] = (-1, "")
        self.index: dict[tuple[str, str], dict[str, list[str]]] = {}
        self.users_by_id = {u["id"]: u for u in self.users}
        for m in self.modules:
            self.rebuild_specs(m)

    # ---- time and ids ---------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + float(self.kv.get("clock_offset", 0.0))

    def now_iso(self) -> str:
        second = int(self.now())
        if self._iso_cache[0] != second:
            self._iso_cache = (second, datetime.fromtimestamp(second, timezone.utc).isoformat())
        return self._iso_cache[1]

    def next_id(self) -> str:
        counter = int(self.kv.get("id_counter", 0)) + 1
        self.set_kv("id_counter", counter)
        return str(ID_BASE + counter)

    def zgid(self) -> str:
        """The org's zgid: what GET /org answers as `zgid` and bulk uploads send as X-CRM-ORG."""
        return str(self.kv.get("org_id", ""))[-9:]

    def set_kv(self, key: str, value: Any) -> None:
        self.kv[key] = value
        self._dirty_kv.add(key)

    # ---- transactions -----------------------------------------------------------------------
    def begin(self) -> None:
        self.conn.execute("BEGIN")

    def flush_records(self) -> None:
        if self._pending:
            self.conn.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", self._pending)
            self._pending = []

    def commit(self) -> None:
        self.flush_records()
        if self._dirty_kv:
            self.conn.executemany("INSERT OR REPLACE INTO kv VALUES (?, ?)",
                                  [(k, _dumps(self.kv[k])) for k in self._dirty_kv])
            self._dirty_kv.clear()
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")

    def flush_kv(self) -> None:
        self.begin()
        self.commit()

    # ---- metadata -----------------------------------------------------------------------------
    def save_module(self, module: dict[str, Any]) -> None:
        api = module["api_name"]
        self.modules[api] = module
        self.fields.setdefault(api, [])
        self.records.setdefault(api, {})
        self.conn.execute("INSERT OR REPLACE INTO modules VALUES (?, ?, ?)", (api, list(self.modules).index(api), _dumps(module)))

    def save_field(self, module: str, fj: dict[str, Any]) -> None:
        current = self.fields.setdefault(module, [])
        for i, existing in enumerate(current):
            if existing["api_name"] == fj["api_name"]:
                current[i] = fj
                seq = i
                break
        else:
            current.append(fj)
            seq = len(current) - 1
        self.conn.execute("INSERT OR REPLACE INTO fields VALUES (?, ?, ?, ?)", (module, fj["api_name"], seq, _dumps(fj)))

    def drop_field(self, module: str, api_name: str) -> None:
        """Remove a field and, as Zoho does, its value from every record of the module."""
        self.fields[module] = [f for f in self.fields[module] if f["api_name"] != api_name]
        self.conn.execute("DELETE FROM fields WHERE module = ? AND api_name = ?", (module, api_name))
        # keep seq dense, so the order read back after a restart is the order here
        self.conn.executemany("UPDATE fields SET seq = ? WHERE module = ? AND api_name = ?",
                              [(i, module, f["api_name"]) for i, f in enumerate(self.fields[module])])
        self.index.pop((module, api_name), None)
        changed = [rec for rec in self.records.get(module, {}).values() if api_name in rec]
        for rec in changed:
            del rec[api_name]
        self._pending.extend((module, rec["id"], _dumps(rec)) for rec in changed)

    def rebuild_specs(self, module: str) -> None:
        specs: dict[str, FieldSpec] = {}
        for fj in self.fields.get(module, []):
            sub = None
            if fj["data_type"] == "subform":
                sub = {s["api_name"]: schema.to_spec(s) for s in fj.get("subform_fields", [])}
            specs[fj["api_name"]] = schema.to_spec(fj, sub)
        self.specs[module] = specs
        self.mandatory[module] = [s.api_name for s in specs.values() if s.mandatory]
        self.unique_keys[module] = [s.api_name for s in specs.values() if s.unique or s.external]
        keys = set(schema.DEFAULT_DUPLICATE_FIELDS.get(module, ()))
        if self.modules.get(module, {}).get("generated_type") == "custom":
            keys.add("Name")
        keys |= {s.api_name for s in specs.values() if s.unique or s.external}
        for name in keys:
            if (module, name) in self.index:
                continue
            idx: dict[str, list[str]] = {}
            for rid, rec in self.records.get(module, {}).items():
                if rec.get(name) not in (None, ""):
                    idx.setdefault(norm_key(rec[name]), []).append(rid)
            self.index[(module, name)] = idx
        self.index_keys[module] = [f for (m, f) in self.index if m == module]

    def indexed(self, module: str) -> list[str]:
        return self.index_keys.get(module, [])

    # ---- records ----------------------------------------------------------------------------------
    def put_records(self, module: str, recs: Iterable[dict[str, Any]], old: dict[str, dict[str, Any]] | None = None) -> None:
        """Store records (inserted or updated); `old` holds prior versions for the index update."""
        rows = []
        table = self.records[module]
        keys = self.indexed(module)
        for rec in recs:
            rid = rec["id"]
            prev = (old or {}).get(rid)
            for k in keys:
                idx = self.index[(module, k)]
                if prev is not None and prev.get(k) not in (None, ""):
                    ids = idx.get(norm_key(prev[k]), [])
                    if rid in ids:
                        ids.remove(rid)
                if rec.get(k) not in (None, ""):
                    idx.setdefault(norm_key(rec[k]), []).append(rid)
            table[rid] = rec
            rows.append((module, rid, _dumps(rec)))
        self._pending.extend(rows)  # written at commit, in the same transaction

    def delete_record(self, module: str, rid: str) -> None:
        self.flush_records()
        rec = self.records[module].pop(rid)
        for k in self.indexed(module):
            if rec.get(k) not in (None, ""):
                ids = self.index[(module, k)].get(norm_key(rec[k]), [])
                if rid in ids:
                    ids.remove(rid)
        self.conn.execute("DELETE FROM records WHERE module = ? AND id = ?", (module, rid))

    def find(self, module: str, field: str, value: Any) -> list[str]:
        """Ids of records whose `field` equals `value` (case-insensitive), oldest first."""
        if (module, field) in self.index:
            return list(self.index[(module, field)].get(norm_key(value), []))
        key = norm_key(value)
        return [rid for rid, rec in self.records.get(module, {}).items()
                if rec.get(field) not in (None, "") and norm_key(rec[field]) == key]

    # ---- users ------------------------------------------------------------------------------------
    def save_users(self, users: list[dict[str, Any]]) -> None:
        self.users = users
        self.users_by_id = {u["id"]: u for u in users}
        self.conn.execute("DELETE FROM users")
        self.conn.executemany("INSERT INTO users VALUES (?, ?, ?)", [(u["id"], i, _dumps(u)) for i, u in enumerate(users)])

    def current_user(self) -> dict[str, Any]:
        admins = [u for u in self.users if u.get("profile", {}).get("name") == "Administrator" and u["status"] == "active"]
        return (admins or [u for u in self.users if u["status"] == "active"] or self.users)[0]

    # ---- tokens and credits ---------------------------------------------------------------------------
    def add_token(self, token: str, expires: float) -> None:
        self.tokens[token] = expires
        now = self.now()
        stale = [t for t, e in self.tokens.items() if e < now - 86_400]
        for t in stale:
            del self.tokens[t]
        self.conn.execute("INSERT OR REPLACE INTO tokens VALUES (?, ?)", (token, expires))
        if stale:
            self.conn.execute("DELETE FROM tokens WHERE expires < ?", (now - 86_400,))

    def revoke_token(self, token: str) -> None:
        self.tokens.pop(token, None)
        self.conn.execute("DELETE FROM tokens WHERE token = ?", (token,))

    def spend(self, cost: int) -> None:
        ts = self.now()
        self.credit_log.append((ts, cost))
        self.conn.execute("INSERT INTO credits VALUES (?, ?)", (ts, cost))

    def credits_used(self, window: float = 86_400) -> int:
        now = self.now()
        while self.credit_log and self.credit_log[0][0] <= now - 86_400:
            self.credit_log.popleft()
        if window >= 86_400:
            return sum(c for _, c in self.credit_log)
        return sum(c for t, c in self.credit_log if t > now - window)

    def prune_credits(self) -> None:
        self.conn.execute("DELETE FROM credits WHERE ts <= ?", (self.now() - 86_400,))

    # ---- jobs -------------------------------------------------------------------------------------------
    def save_job(self, job: dict[str, Any]) -> None:
        self.jobs[job["id"]] = job
        self.conn.execute("INSERT OR REPLACE INTO jobs VALUES (?, ?)", (job["id"], _dumps(job)))

    def close(self) -> None:
        try:
            self.commit()
        finally:
            self.conn.close()
