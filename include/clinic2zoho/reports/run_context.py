"""What the reports know about one load run: its plan (the run file the loader wrote), its
journal rows, the expected rows of the Zoho-shaped tables it loaded, the crosswalk of clinic keys
to Zoho ids, the org's users and field metadata, and dbt's descriptions of each column."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import duckdb

from clinic2zoho import settings as app_settings
from clinic2zoho.loader import journal, run_org
from clinic2zoho.loader.plan import LoadPlan, ModuleSpec
from clinic2zoho.loader.source import TableSource
from clinic2zoho.zoho.criteria import equals


class ReportError(RuntimeError):
    """The run cannot be validated (no run file, no warehouse): says which and why."""


@dataclass
class JournalRow:
    source_key: str
    status: str
    zoho_id: str | None
    parent_id: str | None
    error_code: str | None
    error_field: str | None
    error: str | None


def default_manifest(warehouse: Path) -> Path:
    """Where run_dbt leaves the manifest for this warehouse, else the project's target folder."""
    beside = warehouse.parent / f"{warehouse.stem}.dbt_target" / "manifest.json"
    return beside if beside.is_file() else app_settings.DBT_PROJECT_DIR / "target" / "manifest.json"


@dataclass
class RunContext:
    run_id: str
    warehouse: Path
    journal_root: Path
    plan: LoadPlan
    manifest: Path | None = None
    _journal: dict[str, dict[str, JournalRow]] = field(default_factory=dict, repr=False)
    _cross: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    _reverse: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    _fields: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    _users: dict[str, str] | None = field(default=None, repr=False)
    _user_lists: dict[str, list[dict]] = field(default_factory=dict, repr=False)
    _loading_user: str | None = field(default=None, repr=False)
    _products: dict[str, str | None] = field(default_factory=dict, repr=False)
    _docs: dict[str, dict[str, str]] | None = field(default=None, repr=False)
    _expected: dict[tuple[str, str], dict[str, dict]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, run_id: str, warehouse: Path | None = None, journal_root: Path | None = None,
             manifest: Path | None = None) -> "RunContext":
        warehouse = Path(warehouse) if warehouse else app_settings.warehouse_path()
        root = app_settings.journal_root(journal_root)
        run_file = journal.run_file(root, run_id)
        if not run_file.is_file():
            raise ReportError(f"run {run_id}: no run file at {run_file} (was it loaded with this journal folder?)")
        if not warehouse.is_file():
            raise ReportError(f"{warehouse}: warehouse not found")
        plan = LoadPlan.from_json(json.dumps(json.loads(run_file.read_text())["plan"]))
        return cls(run_id, warehouse, root, plan, manifest or default_manifest(warehouse))

    # ------------------------------------------------------------------ warehouse
    @contextmanager
    def held(self) -> Iterator["RunContext"]:
        """Keeps the warehouse open (read-only) for a block of reads: DuckDB then shares the open
        database with every other read-only connection of this process to the file, so each read
        connects in under a millisecond instead of opening the file again (some 20 ms each, over a
        hundred times in a validation). For the reports' tasks, which run in the warehouse pool
        (no writer meanwhile)."""
        with duckdb.connect(str(self.warehouse), read_only=True):
            yield self

    def source(self) -> TableSource:
        return TableSource(self.warehouse)

    def table_exists(self, table: str) -> bool:
        schema, _, name = table.rpartition(".")
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ?"
                                    " AND table_name = ?", [schema or "main", name]).fetchone()[0])

    def sql(self, query: str, params: list | None = None) -> list[dict]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            cur = con.execute(query, params or [])
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, r)) for r in cur.fetchall()]

    def expected_rows(self, spec: ModuleSpec) -> dict[str, dict]:
        """key -> row of the module's table, with values as the loader sent them (read once: the
        checks share it and only read it)."""
        with self._lock:
            cached = self._expected.get((spec.module, spec.table))
        if cached is not None:
            return cached
        rows: dict[str, dict] = {}
        for row in self.source().rows(spec):
            key = spec.row_key(row)
            if key is not None and key not in rows:
                rows[key] = row
        with self._lock:
            return self._expected.setdefault((spec.module, spec.table), rows)

    def count_rows(self, spec: ModuleSpec) -> int:
        return self.source().count(spec)

    # ------------------------------------------------------------------ journal
    def journal_rows(self, module: str) -> dict[str, JournalRow]:
        """source key -> the run's journal row of `module`. The plan's modules are read together on
        the first call: one reader over their segments, not one attaching every file per module."""
        with self._lock:
            if not self._journal:
                self._journal.update(self._read_journal(list(self.plan.order())))
            if module not in self._journal:
                self._journal.update(self._read_journal([module]))
            return self._journal[module]

    def _read_journal(self, modules: list[str]) -> dict[str, dict[str, JournalRow]]:
        out: dict[str, dict[str, JournalRow]] = {m: {} for m in modules}
        # a module's rows live in its own segment file (journal.JournalWriter): read those only
        with journal.JournalReader(self.journal_root, runs=[self.run_id], modules=modules) as reader:
            rows = reader.sql(
                "SELECT module, source_key, status, zoho_id, parent_id, error_code, error_field, error"
                " FROM load_journal WHERE run_id = ? AND list_contains(?, module)", [self.run_id, modules])
        for module, *values in rows:
            out[module][values[0]] = JournalRow(*values)
        return out

    def crosswalk(self, module: str) -> dict[str, str]:
        """clinic key -> Zoho id of the loaded (not rolled back) records of `module`, by every run
        into this run's org (ids of another org's runs name other records; run_org)."""
        with self._lock:
            if module not in self._cross:
                org_id = (run_org.recorded(self.journal_root, self.run_id) or {}).get("org_id")
                self._cross[module] = journal.crosswalk(self.journal_root, module,
                                                        run_org.runs_of(self.journal_root, org_id))
                self._reverse[module] = {v: k for k, v in self._cross[module].items()}
            return self._cross[module]

    def key_of(self, module: str, zoho_id: str) -> str | None:
        self.crosswalk(module)
        return self._reverse[module].get(zoho_id)

    # ------------------------------------------------------------------ Zoho metadata
    def field_types(self, client: Any, module: str) -> dict[str, str]:
        """api_name -> data_type of the module's fields in the org (Notes: the fixed note fields)."""
        with self._lock:
            if module not in self._fields:
                if module == "Notes":
                    self._fields[module] = {"Note_Title": "text", "Note_Content": "textarea", "Parent_Id": "lookup"}
                elif module == "Attachments":
                    self._fields[module] = {"File_Name": "text", "Size": "bigint"}
                else:
                    self._fields[module] = {f["api_name"]: str(f.get("data_type") or "text")
                                            for f in client.fields(module)}
            return self._fields[module]

    def loading_user_email(self, client: Any) -> str | None:
        """The user `client` loads as: Zoho makes it the owner of a record sent without one."""
        with self._lock:
            if self._loading_user is None:
                users = client.users(type="CurrentUser")
                self._loading_user = str((users[0] if users else {}).get("email") or "").lower()
            return self._loading_user or None

    def _user_list(self, client: Any, kind: str) -> list[dict]:
        """The org's users of one type (ActiveUsers, DeactiveUsers), read once; call with the lock."""
        if kind not in self._user_lists:
            self._user_lists[kind] = list(client.users(type=kind))
        return self._user_lists[kind]

    def user_email(self, client: Any, user_id: str) -> str | None:
        with self._lock:
            if self._users is None:
                self._users = {}
                for kind in ("ActiveUsers", "DeactiveUsers"):
                    for u in self._user_list(client, kind):
                        if u.get("id") and u.get("email"):
                            self._users[str(u["id"])] = str(u["email"]).lower()
            return self._users.get(str(user_id))

    def active_user_ids(self, client: Any) -> set[str]:
        with self._lock:
            return {str(u["id"]) for u in self._user_list(client, "ActiveUsers") if u.get("id")}

    def product_id(self, client: Any, name: str) -> str | None:
        with self._lock:
            if name not in self._products:
                criteria = equals("Product_Name", name)
                found = next(iter(client.search("Products", criteria)), None)
                self._products[name] = str(found["id"]) if found else None
            return self._products[name]

    # ------------------------------------------------------------------ dbt docs
    def rule(self, spec: ModuleSpec, column: str) -> str:
        """The mapping rule behind a column: `<model>.<column>: <column description>`, from dbt's
        manifest (the model description when the column has none)."""
        docs = self._model_docs()
        model = spec.table.rpartition(".")[2]
        entry = docs.get(model, {})
        text = entry.get(column) or entry.get("") or ""
        return f"{model}.{column}: {text}".rstrip(": ")

    def _model_docs(self) -> dict[str, dict[str, str]]:
        if self._docs is None:
            docs: dict[str, dict[str, str]] = {}
            if self.manifest and Path(self.manifest).is_file():
                manifest = json.loads(Path(self.manifest).read_text())
                for node in manifest.get("nodes", {}).values():
                    if node.get("resource_type") != "model":
                        continue
                    name = node.get("alias") or node["name"]
                    cols = {c: " ".join((d.get("description") or "").split()) for c, d in
                            (node.get("columns") or {}).items()}
                    cols[""] = " ".join((node.get("description") or "").split())
                    docs[name] = cols
            self._docs = docs
        return self._docs


def chunked(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
