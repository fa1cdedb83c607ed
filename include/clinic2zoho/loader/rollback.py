"""Undo a load run from its journal: in reverse dependency order, delete the records, notes and
attachments the run created (100 ids per call) and restore the before-images of the records it
updated. Every step is journaled (rollback_journal in the module's segment) so a rollback that
stops part-way resumes where it stopped. Rollback does not need the mapping gate: it works from
the run's journal, not from the current mapping. It refuses an org other than the one the run
loaded into (run_org): there the journaled ids name unrelated records."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import duckdb

from clinic2zoho.loader import journal, run_org
from clinic2zoho.loader.checkpoints import Checkpoint, EnvCrash
from clinic2zoho.loader.journal import Entry, JournalSegment
from clinic2zoho.loader.plan import LoadPlan, ModuleSpec
from clinic2zoho.mapping.schema import SCHEMA_CHANGES_DDL  # the table schema preparation writes
from clinic2zoho.zoho import facts
from clinic2zoho.zoho.errors import ZohoError
from clinic2zoho.zoho.existing import by_keys_is_cheaper, find_by_keys

log = logging.getLogger(__name__)

GONE_CODES = {"INVALID_DATA", "RECORD_NOT_FOUND", "NOT_FOUND", "INVALID_URL_PATTERN"}


def _as_input(value: Any) -> Any:
    """A value as Zoho returned it, made fit to send back (lookups and owners by id only)."""
    if isinstance(value, dict) and "id" in value:
        return {"id": value["id"]}
    return value


def load_run_plan(root: Path, run_id: str) -> LoadPlan:
    path = journal.run_file(root, run_id)
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
        run_org.check(self.root, self.run_id, self.client)  # the run's ids mean its own org's records
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
            if by_keys_is_cheaper(self.client, spec.module, len(inflight)):  # COQL, 50 keys a call
                existing = {k: str(r["id"]) for k, r in
                            find_by_keys(self.client, spec.module, spec.external_id, list(inflight)).items()}
            else:  # a scan of the module, 200 records a call
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
        for start in range(0, len(entries), facts.IDS_PER_DELETE):
            chunk = entries[start:start + facts.IDS_PER_DELETE]
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
        for start in range(0, len(entries), facts.RECORDS_PER_CALL):
            chunk = entries[start:start + facts.RECORDS_PER_CALL]
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


SCHEMA_SEGMENT = "_schema"  # journal segment of a schema rollback: <journal>/<run>/_schema.duckdb
SETUP_MODULES = "remove in Setup > Modules"
# Zoho's API has no call that deletes a custom module (modules.json: GET, POST, PUT only; Update
# Custom Module takes labels and profiles, no status): what the run created stays, emptied.
MODULE_LEFT = ("left: empty custom module; Zoho's API cannot delete modules, " + SETUP_MODULES)
FINAL_SCHEMA = ("done",)  # a rerun re-examines everything else (kept / left / failed / intent)


def _change_key(kind: str, module: str, field: str | None, created_at: Any, detail: dict) -> str:
    stamp = created_at.isoformat() if hasattr(created_at, "isoformat") else str(created_at)
    return f"schema:{kind}:{module}:{field or ''}:{detail.get('id') or ''}:{stamp}"


def _run_records_left(root: Path, run_id: str) -> dict[str, int]:
    """Per module, the records the run inserted that its rollback has not yet deleted."""
    folder = journal.run_dir(root, run_id)
    # module segments only: this process's own audit file is open for writing (DuckDB refuses a
    # second attach of it), and the schema segment holds no load rows
    modules = [f.stem for f in folder.glob("*.duckdb") if not f.stem.startswith("audit-") and f.stem != SCHEMA_SEGMENT]
    if not modules:
        return {}
    with journal.JournalReader(root, runs=[run_id], modules=modules) as reader:
        return dict(reader.sql(
            """SELECT j.module, count(*) FROM load_journal j
               LEFT JOIN rollback_journal r USING (run_id, module, source_key)
               WHERE j.run_id = ? AND j.operation = 'insert' AND j.status = 'done' AND j.zoho_id IS NOT NULL
                 AND (r.status IS NULL OR r.status <> 'done')
               GROUP BY j.module""", [run_id]))


class _SchemaJournal:
    """rollback_journal rows of a schema rollback, in their own segment (module = the Zoho
    module, source_key = `schema:<kind>:<module>:<field>:...`, action = what undoes it)."""

    def __init__(self, root: Path, run_id: str):
        self.seg = JournalSegment(root, run_id, SCHEMA_SEGMENT)
        self.run_id = run_id

    def status(self) -> dict[tuple[str, str], str]:
        rows = self.seg.sql("SELECT module, source_key, status FROM rollback_journal WHERE run_id = ?", [self.run_id])
        return {(m, k): st for m, k, st in rows}

    def mark(self, module: str, key: str, action: str, status: str, error: str | None = None,
             zoho_id: str | None = None) -> None:
        self.seg.sql(
            """INSERT INTO rollback_journal (run_id, module, source_key, zoho_id, action, status, error)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (run_id, module, source_key) DO UPDATE SET status = excluded.status,
                   error = excluded.error, action = excluded.action, updated_at = now()""",
            [self.run_id, module, key, zoho_id, action, status, error])

    def close(self) -> None:
        self.seg.close()


ACTIONS = {"record": "delete_record", "picklist_value": "remove_picklist_values",
           "picklist_values": "remove_picklist_values", "field": "delete_field", "module": "remove_module"}


def rollback_schema(client: Any, warehouse: Path, run_id: str, *, root: Path | None = None,
                    checkpoint: Checkpoint | None = None) -> list[dict]:
    """Remove what schema preparation created for the run (ops.schema_changes, written by
    `clinic2zoho prepare-schema --run-id R`), newest first (the reverse of creation), each only
    once its module holds none of the run's records any more (run the record rollback first):
    design records (the Clinic services product), pick-list values no record holds, custom fields
    no record fills (Zoho deletes a field with its values), through Zoho's documented API.
    Custom modules cannot be deleted through Zoho's API: they are left, empty, and reported as
    "remove in Setup > Modules". Every step is journaled (`<journal>/<run>/_schema.duckdb`,
    table rollback_journal); a rerun skips what is done and re-examines the rest.

    Each result: kind, module, field, status (done | kept | left | failed), outcome (text)."""
    from clinic2zoho import settings as app_settings

    root = app_settings.journal_root(root)
    cp = checkpoint or EnvCrash()
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(SCHEMA_CHANGES_DDL)
        changes = con.execute(
            "SELECT kind, module, field, detail, created_at FROM ops.schema_changes WHERE run_id = ?"
            " ORDER BY created_at DESC", [run_id]).fetchall()
    finally:
        con.close()
    if not changes:
        return []
    run_org.check(root, run_id, client, "roll back the schema of")
    left_by_module = _run_records_left(root, run_id)
    sj = _SchemaJournal(root, run_id)
    out = []
    try:
        status = sj.status()
        for kind, module, field, raw, created_at in changes:
            detail = _detail(raw)
            key = _change_key(kind, module, field, created_at, detail)
            action = ACTIONS.get(kind, "none")
            result: dict[str, Any] = {"kind": kind, "module": module, "field": field}
            if status.get((module, key)) in FINAL_SCHEMA:
                result.update(status="done", outcome="removed (earlier rollback)")
                out.append(result)
                continue
            waiting = left_by_module.get(module, 0)
            if waiting and kind in ("field", "picklist_value", "picklist_values", "module"):
                result.update(status="kept", outcome=f"kept: {waiting} record(s) of the run in {module} are not "
                                                      "rolled back yet (roll back the records first)")
            else:
                sj.mark(module, key, action, "intent")
                cp("after_schema_intent")
                try:
                    st, outcome = _undo_change(client, kind, module, field, detail)
                except ZohoError as exc:
                    if exc.transient:
                        raise  # resumable: rerun the rollback
                    st, outcome = "failed", f"failed: {exc}"
                cp("after_schema_call")
                result.update(status=st, outcome=outcome)
            sj.mark(module, key, action, result["status"], None if result["status"] == "done" else result["outcome"],
                    str(detail.get("id") or detail.get("field_id") or "") or None)
            out.append(result)
    finally:
        sj.close()
    return out


def _undo_change(client: Any, kind: str, module: str, field: str | None, detail: dict) -> tuple[str, str]:
    """Undo one change; returns (status, outcome)."""
    if kind == "record":
        rid = detail.get("id")
        if not rid:
            return "failed", "not removed: no record id recorded"
        res = client.delete(module, [rid])[0]
        if res.ok or res.code in GONE_CODES:
            return "done", "removed"
        return "failed", f"not removed: {res.code}"
    if kind in ("picklist_value", "picklist_values"):
        values = [str(v) for v in (detail.get("values") or [])]
        if not field or client.field(module, field) is None:
            return "done", "removed (the field is gone)"
        used = {str(r.get(field)) for r in client.iter_records(module, [field]) if r.get(field) is not None}
        if any(v in used for v in values):
            return "kept", "kept: value(s) in use by records"
        client.remove_picklist_values(module, field, values)
        return "done", "removed"
    if kind == "field":
        present = client.field(module, field) if field else None
        if present is None:
            return "done", "removed (already gone)"
        if any(r.get(field) not in (None, "", []) for r in client.iter_records(module, [field])):
            return "kept", "kept: records hold values"
        try:
            client.delete_field(module, str(detail.get("field_id") or present.get("id") or field))
        except ZohoError as exc:
            if exc.transient or exc.code != "INVALID_FIELD":
                raise
        return "done", "removed"
    if kind == "module":
        if next(iter(client.iter_records(module, ["id"])), None) is not None:
            return "kept", f"kept: module holds records; {SETUP_MODULES} once it is empty"
        return "left", MODULE_LEFT
    return "done", "left alone: nothing to undo for this kind"


def modules_left(results: list[dict]) -> list[str]:
    """The custom modules a schema rollback left for removal by hand (Setup > Modules)."""
    return [r["module"] for r in results if r["kind"] == "module" and r["status"] in ("left", "kept")]
