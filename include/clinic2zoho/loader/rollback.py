"""Undo a load run from its journal: in reverse dependency order, delete the records, notes and
attachments the run created (100 ids per call) and restore the before-images of the records it
updated. Every step is journaled (rollback_journal in the module's segment) so a rollback that
stops part-way resumes where it stopped. Rollback does not need the mapping gate: it works from
the run's journal, not from the current mapping."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import duckdb

from clinic2zoho.loader import costs, journal
from clinic2zoho.loader.checkpoints import Checkpoint, EnvCrash
from clinic2zoho.loader.journal import Entry, JournalSegment
from clinic2zoho.loader.plan import LoadPlan, ModuleSpec
from clinic2zoho.zoho.errors import ZohoError

log = logging.getLogger(__name__)

SCHEMA_CHANGES_DDL = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.schema_changes (
    run_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, module VARCHAR NOT NULL, field VARCHAR, detail JSON,
    created_at TIMESTAMPTZ NOT NULL);
"""
GONE_CODES = {"INVALID_DATA", "RECORD_NOT_FOUND", "NOT_FOUND", "INVALID_URL_PATTERN"}


def _as_input(value: Any) -> Any:
    """A value as Zoho returned it, made fit to send back (lookups and owners by id only)."""
    if isinstance(value, dict) and "id" in value:
        return {"id": value["id"]}
    return value


def load_run_plan(root: Path, run_id: str) -> LoadPlan:
    path = journal.run_dir(root, run_id) / "run.json"
    if not path.is_file():
        raise FileNotFoundError(f"run {run_id}: no journal at {path.parent} (is the run id right?)")
    return LoadPlan.from_json(json.dumps(json.loads(path.read_text())["plan"]))


class Rollback:
    def __init__(self, client: Any, run_id: str, root: Path, *, checkpoint: Checkpoint | None = None):
        self.client = client
        self.run_id = run_id
        self.root = Path(root)
        self.cp = checkpoint or EnvCrash()
        self.plan = load_run_plan(self.root, run_id)

    def run(self, modules: list[str] | None = None) -> list[dict]:
        order = list(reversed(self.plan.order()))
        if modules:
            for m in modules:
                self.plan.spec(m)
            order = [m for m in order if m in modules]
        out = []
        for module in order:
            if not (journal.run_dir(self.root, self.run_id) / f"{module}.duckdb").exists():
                continue
            out.append(self._module(self.plan.spec(module)))
        return out

    # ------------------------------------------------------------------ one module
    def _module(self, spec: ModuleSpec) -> dict:
        with JournalSegment(self.root, self.run_id, spec.module) as seg:
            entries = seg.entries()
            self._reconcile_inflight(spec, seg, entries)
            entries = seg.entries()
            undone = seg.rollback_entries()
            deletes: list[Entry] = []
            restores: list[Entry] = []
            for key, e in entries.items():
                if undone.get(key, ("",))[0] == "done" or e.status != "done" or not e.zoho_id:
                    continue
                if e.operation == "insert":
                    deletes.append(e)
                elif e.operation == "update" and e.before_image is not None:
                    restores.append(e)
            if spec.kind == "attachment":
                self._delete_attachments(spec, seg, deletes)
            else:
                self._delete_records(spec, seg, deletes)
            self._restore(spec, seg, restores)
            counts = dict(seg.sql("SELECT action, count(*) FROM rollback_journal WHERE run_id = ? AND module = ?"
                                  " AND status = 'done' GROUP BY action", [self.run_id, spec.module]))
            failed = seg.sql("SELECT count(*) FROM rollback_journal WHERE run_id = ? AND module = ?"
                             " AND status = 'failed'", [self.run_id, spec.module])[0][0]
        return {"module": spec.module, "deleted": counts.get("delete", 0), "restored": counts.get("restore", 0),
                "failed": failed}

    def _reconcile_inflight(self, spec: ModuleSpec, seg: JournalSegment, entries: dict[str, Entry]) -> None:
        """Rows the load left between intent and outcome may exist in Zoho: find them, so the
        rollback removes them too."""
        inflight = {k: e for k, e in entries.items() if e.status in ("intent", "sent") and e.operation == "insert"}
        if not inflight:
            return
        found: list[dict] = []
        if spec.kind == "record":
            existing = {str(r.get(spec.external_id)): str(r["id"])
                        for r in self.client.iter_records(spec.module, [spec.external_id])}
            found = [{"source_key": k, "zoho_id": existing[k], "operation": "insert"} for k in inflight if k in existing]
        else:
            by_parent: dict[tuple[str, str], list[str]] = {}
            for k, e in inflight.items():
                if e.parent_id:
                    by_parent.setdefault((e.parent_module or spec.parent_module, e.parent_id), []).append(k)
            for (parent_module, parent_id), keys in by_parent.items():
                if spec.kind == "note":
                    names = {str(n.get("Note_Title")): str(n["id"]) for n in self.client.notes(parent_module, parent_id)}
                else:
                    names = {str(a.get("File_Name")): str(a["id"])
                             for a in self.client.attachments(parent_module, parent_id)}
                for k in keys:
                    title = inflight[k].label or k
                    if title in names:
                        found.append({"source_key": k, "zoho_id": names[title], "operation": "insert"})
        seg.done(found)

    def _delete_records(self, spec: ModuleSpec, seg: JournalSegment, entries: list[Entry]) -> None:
        for start in range(0, len(entries), costs.IDS_PER_DELETE):
            chunk = entries[start:start + costs.IDS_PER_DELETE]
            seg.rollback_mark([{"source_key": e.source_key, "zoho_id": e.zoho_id, "action": "delete"} for e in chunk],
                              "intent")
            self.cp("after_rollback_intent")
            results = self.client.delete(spec.module, [e.zoho_id for e in chunk])
            self.cp("after_rollback_call")
            done, failed = [], []
            for res in results:
                e = chunk[res.index]
                item = {"source_key": e.source_key, "zoho_id": e.zoho_id, "action": "delete"}
                # A record already gone (deleted by hand, or by an earlier try) counts as undone.
                if res.ok or res.code in GONE_CODES:
                    done.append(item)
                else:
                    failed.append({**item, "error": f"{res.code}: {res.message}"})
            seg.rollback_mark(done, "done")
            seg.rollback_mark(failed, "failed")

    def _delete_attachments(self, spec: ModuleSpec, seg: JournalSegment, entries: list[Entry]) -> None:
        for e in entries:
            item = {"source_key": e.source_key, "zoho_id": e.zoho_id, "action": "delete"}
            seg.rollback_mark([item], "intent")
            self.cp("after_rollback_intent")
            try:
                res = self.client.delete_attachment(e.parent_module or spec.parent_module, e.parent_id, e.zoho_id)
                ok, error = res.ok or res.code in GONE_CODES, f"{res.code}: {res.message}"
            except ZohoError as exc:
                if exc.transient:
                    raise
                ok, error = exc.status == 404 or exc.code in GONE_CODES, str(exc)
            self.cp("after_rollback_call")
            seg.rollback_mark([item if ok else {**item, "error": error}], "done" if ok else "failed")

    def _restore(self, spec: ModuleSpec, seg: JournalSegment, entries: list[Entry]) -> None:
        for start in range(0, len(entries), costs.RECORDS_PER_CALL):
            chunk = entries[start:start + costs.RECORDS_PER_CALL]
            seg.rollback_mark([{"source_key": e.source_key, "zoho_id": e.zoho_id, "action": "restore"} for e in chunk],
                              "intent")
            self.cp("after_rollback_intent")
            records = [{**{k: _as_input(v) for k, v in (e.before_image or {}).items() if k != "id"}, "id": e.zoho_id}
                       for e in chunk]
            results = self.client.update(spec.module, records)
            self.cp("after_rollback_call")
            done, failed = [], []
            for res in results:
                e = chunk[res.index]
                item = {"source_key": e.source_key, "zoho_id": e.zoho_id, "action": "restore"}
                (done if res.ok else failed).append(item if res.ok else {**item, "error": f"{res.code}: {res.message}"})
            seg.rollback_mark(done, "done")
            seg.rollback_mark(failed, "failed")


def _detail(raw: Any) -> dict:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if raw else {}
    except (TypeError, json.JSONDecodeError):
        return {"text": raw}
    return value if isinstance(value, dict) else {"values": value}


def rollback_schema(client: Any, warehouse: Path, run_id: str) -> list[dict]:
    """Remove what schema preparation created for the run (ops.schema_changes, written by
    `clinic2zoho prepare-schema`), newest first, once empty: design records (the Clinic services
    product) no invoice uses, pick-list values no record holds, custom fields no record fills,
    custom modules without records. What the client (or Zoho's API) cannot remove is reported,
    never hidden."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(SCHEMA_CHANGES_DDL)
        changes = con.execute(
            "SELECT kind, module, field, detail FROM ops.schema_changes WHERE run_id = ? ORDER BY created_at DESC",
            [run_id]).fetchall()
    finally:
        con.close()
    out = []
    for kind, module, field, raw in changes:
        detail = _detail(raw)
        result: dict[str, Any] = {"kind": kind, "module": module, "field": field}
        try:
            if kind == "record":
                rid = detail.get("id")
                res = client.delete(module, [rid])[0] if rid else None
                result["outcome"] = "removed" if res is not None and (res.ok or res.code in GONE_CODES) else \
                    f"not removed: {res.code if res else 'no record id recorded'}"
            elif kind in ("picklist_value", "picklist_values"):
                values = [str(v) for v in (detail.get("values") or [])]
                used = {str(r.get(field)) for r in client.iter_records(module, [field]) if r.get(field) is not None}
                remover = getattr(client, "remove_picklist_values", None)
                if any(v in used for v in values):
                    result["outcome"] = "kept: value(s) in use by records"
                elif remover is None:
                    result["outcome"] = "not removed: the client cannot remove pick-list values"
                else:
                    remover(module, field, values)
                    result["outcome"] = "removed"
            elif kind == "field":
                filled = any(r.get(field) not in (None, "", []) for r in client.iter_records(module, [field]))
                remover = getattr(client, "delete_field", None)
                if filled:
                    result["outcome"] = "kept: records hold values"
                elif remover is None:
                    result["outcome"] = "not removed: the client cannot delete fields; remove it in Zoho's setup"
                else:
                    remover(module, field)
                    result["outcome"] = "removed"
            elif kind == "module":
                has_records = next(iter(client.iter_records(module, ["id"])), None) is not None
                remover = getattr(client, "delete_module", None)
                if has_records:
                    result["outcome"] = "kept: module holds records"
                elif remover is None:
                    result["outcome"] = "not removed: the client cannot delete modules; remove it in Zoho's setup"
                else:
                    remover(module)
                    result["outcome"] = "removed"
            else:
                result["outcome"] = "left alone: nothing to undo for this kind"
        except ZohoError as exc:
            result["outcome"] = f"failed: {exc}"
        out.append(result)
    return out
