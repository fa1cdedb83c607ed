"""Record writes and reads with Zoho's per-record answers: insert, update, upsert, delete,
validation of every field, unique / duplicate checks, lookups, subforms and Notes' Parent_Id."""

from __future__ import annotations

import copy
import re
from typing import Any, Callable

from . import deleted, layouts
from .schema import DEFAULT_DUPLICATE_FIELDS, SYSTEM_FIELDS, FieldSpec
from .store import Store
from .values import INVALID_ID, FieldError, check_value, invalid, mandatory

NAME_FIELDS = {"Contacts": "Full_Name", "Leads": "Full_Name", "Accounts": "Account_Name", "Deals": "Deal_Name",
               "Products": "Product_Name", "Events": "Event_Title", "Notes": "Note_Title"}
CALL_DURATION_RE = re.compile(r"^(\d{1,4}):([0-5]\d)$")
IGNORED_INPUT = frozenset(SYSTEM_FIELDS) | {"id", "Full_Name", "$se_module", "Tag", "$approval_state"}


def minified_user(user: dict[str, Any]) -> dict[str, Any]:
    return {"name": user["full_name"], "id": user["id"], "email": user["email"]}


def record_name(store: Store, module: str, rec: dict[str, Any]) -> str | None:
    name_field = NAME_FIELDS.get(module) or ("Name" if "Name" in store.specs.get(module, {}) else "Subject")
    value = rec.get(name_field)
    return value if isinstance(value, str) else None


class Records:
    def __init__(self, store: Store, row_fault: Callable[[], bool] = lambda: False) -> None:
        self.store = store
        self.row_fault = row_fault

    # ---- helpers ------------------------------------------------------------------------------------
    def exists(self, module: str, rid: str) -> bool:
        return rid in self.store.records.get(module, {})

    def user_ok(self, uid: str) -> bool:
        user = self.store.users_by_id.get(uid)
        if user is None or user.get("status") != "active":
            return False
        # an invited user who has not accepted owns nothing (*unverified*: users.py)
        return user.get("confirm") is not False or bool(self.store.settings["unconfirmed_users_own_records"])

    def module_of(self, rid: str) -> str | None:
        for module, recs in self.store.records.items():
            if rid in recs:
                return module
        return None

    def duplicate_keys(self, module: str, for_insert: bool) -> list[str]:
        keys = list(self.store.unique_keys[module])
        if for_insert and self.store.settings["insert_checks_default_duplicates"]:
            keys += [k for k in DEFAULT_DUPLICATE_FIELDS.get(module, ()) if k not in keys]
        return keys

    # ---- validation -----------------------------------------------------------------------------------
    def clean(self, module: str, raw: Any, i: int, current: dict[str, Any] | None) -> dict[str, Any]:
        """The record as it will be stored (merged over `current` on update), or FieldError."""
        if not isinstance(raw, dict):
            raise FieldError("INVALID_DATA", "invalid data", {"json_path": f"$.data[{i}]", "expected_data_type": "jsonobject"})
        specs = self.store.specs[module]
        restricted = bool(self.store.settings["restricted_picklists"])
        rec: dict[str, Any] = copy.deepcopy(current) if current else {}
        for key, value in raw.items():
            spec = specs.get(key)
            if key in IGNORED_INPUT or spec is None or spec.read_only:
                continue  # Zoho ignores unknown and read-only keys
            path = f"$.data[{i}].{key}"
            if value is None or value == "" or value == []:
                if spec.mandatory:
                    raise mandatory(key, path)
                rec[key] = None
                continue
            if spec.data_type == "subform":
                rec[key] = self._subform(spec, value, path, (current or {}).get(key) or [], restricted)
            elif spec.data_type == "multimodulelookup":
                rec[key], rec["$se_module"] = self._multi_lookup(spec, value, raw.get("$se_module"), path)
            elif spec.data_type == "parent_id":
                rec[key] = self._parent(spec, value, raw.get("$se_module"), path)
            else:
                rec[key] = check_value(spec, value, path, self.exists, self.user_ok, restricted)
        if module == "Notes" and isinstance(rec.get("Note_Content"), str) \
                and len(rec["Note_Content"]) > int(self.store.settings["note_content_max"]):
            raise invalid(specs["Note_Content"], f"$.data[{i}].Note_Content",
                          maximum_length=str(self.store.settings["note_content_max"]))
        for name in self.store.mandatory[module]:
            if rec.get(name) in (None, "", []):
                raise mandatory(name, f"$.data[{i}].{name}")
        if current is None:
            layouts.check_insert(self.store, module, rec, i)
        else:
            layouts.check_update(self.store, module, raw, i)
        if "Last_Name" in specs and "First_Name" in specs:
            rec["Full_Name"] = " ".join(p for p in (rec.get("First_Name"), rec.get("Last_Name")) if p)
        if module == "Invoices":
            self._invoice_totals(rec)
        if module == "Calls":
            self._call_duration(rec, specs, i)
        return rec

    @staticmethod
    def _call_duration(rec: dict[str, Any], specs: dict[str, FieldSpec], i: int) -> None:
        """Zoho writes a call's duration as minutes and seconds, "mm:ss" ("05:30"; "75:00" for an
        hour and a quarter), and derives Call_Duration_in_seconds from it."""
        text = rec.get("Call_Duration")
        if text in (None, ""):
            rec["Call_Duration_in_seconds"] = None
            return
        match = CALL_DURATION_RE.match(str(text))
        if not match:
            raise invalid(specs["Call_Duration"], f"$.data[{i}].Call_Duration", expected_data_type="mm:ss")
        rec["Call_Duration_in_seconds"] = int(match.group(1)) * 60 + int(match.group(2))

    def _multi_lookup(self, spec: FieldSpec, value: Any, se_module: Any, path: str) -> tuple[dict[str, Any], str]:
        rid = str(value.get("id") if isinstance(value, dict) else value or "").strip()
        module = se_module if isinstance(se_module, str) and se_module else self.module_of(rid)
        if not rid or not module or not self.exists(module, rid):
            raise FieldError("INVALID_DATA", INVALID_ID, {"api_name": spec.api_name, "json_path": path, "id": rid})
        return {"id": rid}, module

    def _parent(self, spec: FieldSpec, value: Any, se_module: Any, path: str) -> dict[str, Any]:
        module = se_module
        if isinstance(value, dict):
            module = (value.get("module") or {}).get("api_name") if isinstance(value.get("module"), dict) else module
            rid = str(value.get("id") or "").strip()
        else:
            rid = str(value).strip()
        if not isinstance(module, str) or module not in self.store.modules:
            raise FieldError("INVALID_DATA", "invalid data", {"api_name": "$se_module", "json_path": path + ".module"})
        if not self.exists(module, rid):
            raise FieldError("INVALID_DATA", INVALID_ID, {"api_name": spec.api_name, "json_path": path + ".id", "id": rid})
        return {"module": {"api_name": module, "id": self.store.modules[module]["id"]}, "id": rid}

    def _subform(self, spec: FieldSpec, rows: Any, path: str, old_rows: list[dict[str, Any]], restricted: bool) -> list[dict[str, Any]]:
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise invalid(spec, path, expected_data_type="jsonarray")
        old_ids = {r.get("id") for r in old_rows}
        out = []
        for j, row in enumerate(rows):
            clean: dict[str, Any] = {"id": row["id"] if row.get("id") in old_ids else self.store.next_id()}
            for name, sub in (spec.subform or {}).items():
                rpath = f"{path}[{j}].{name}"
                value = row.get(name)
                if value in (None, ""):
                    if sub.mandatory:
                        raise mandatory(name, rpath)
                    continue
                if not sub.read_only:
                    clean[name] = check_value(sub, value, rpath, self.exists, self.user_ok, restricted)
            qty = float(clean.get("Quantity") or 1)
            clean["Quantity"] = qty
            total = qty * float(clean.get("List_Price") or 0)
            clean["Total"] = round(total, 2)
            clean["Net_Total"] = round(total - float(clean.get("Discount") or 0) + float(clean.get("Tax") or 0), 2)
            out.append(clean)
        return out

    @staticmethod
    def _invoice_totals(rec: dict[str, Any]) -> None:
        sub_total = round(sum(float(r.get("Net_Total") or 0) for r in rec.get("Invoiced_Items") or []), 2)
        rec["Sub_Total"] = sub_total
        rec["Grand_Total"] = round(sub_total - float(rec.get("Discount") or 0) + float(rec.get("Tax") or 0)
                                   + float(rec.get("Adjustment") or 0), 2)

    def check_duplicates(self, module: str, rec: dict[str, Any], i: int, keys: list[str], self_id: str | None) -> None:
        for key in keys:
            value = rec.get(key)
            if value in (None, ""):
                continue
            others = [rid for rid in self.store.find(module, key, value) if rid != self_id]
            if others:
                dup = self.store.records[module][others[0]]
                owner = self.store.users_by_id.get((dup.get("Owner") or {}).get("id", ""), self.store.current_user())
                raise FieldError("DUPLICATE_DATA", "duplicate data", {
                    "api_name": key, "json_path": f"$.data[{i}].{key}",
                    "duplicate_record": {"id": others[0], "module": {"api_name": module, "id": self.store.modules[module]["id"]},
                                         "Owner": {"name": owner["full_name"], "id": owner["id"]}}})

    # ---- writes ---------------------------------------------------------------------------------------
    def _stamp(self, rec: dict[str, Any], user: dict[str, Any], new: bool) -> None:
        now = self.store.now_iso()
        who = {"name": user["full_name"], "id": user["id"], "email": user["email"]}
        if new:
            rec["Created_By"], rec["Created_Time"] = who, now
            rec.setdefault("Owner", {"id": user["id"]})
            if rec.get("Owner") is None:
                rec["Owner"] = {"id": user["id"]}
        rec["Modified_By"], rec["Modified_Time"] = who, now

    @staticmethod
    def success(rec: dict[str, Any], action: str, message: str, duplicate_field: str | None = None) -> dict[str, Any]:
        details = {"Modified_Time": rec["Modified_Time"], "Modified_By": {"name": rec["Modified_By"]["name"], "id": rec["Modified_By"]["id"]},
                   "Created_Time": rec["Created_Time"], "id": rec["id"],
                   "Created_By": {"name": rec["Created_By"]["name"], "id": rec["Created_By"]["id"]}}
        out: dict[str, Any] = {"code": "SUCCESS", "duplicate_field": duplicate_field, "action": action, "details": details,
                               "message": message, "status": "success"}
        return out

    @staticmethod
    def fault_result() -> dict[str, Any]:
        return {"code": "INTERNAL_ERROR", "details": {}, "message": "Internal server error occurred.", "status": "error"}

    def insert_one(self, module: str, raw: Any, i: int, user: dict[str, Any]) -> dict[str, Any]:
        if self.row_fault():
            return self.fault_result()
        try:
            rec = self.clean(module, raw, i, None)
            self.check_duplicates(module, rec, i, self.duplicate_keys(module, True), None)
        except FieldError as err:
            return err.as_result()
        rec["id"] = self.store.next_id()
        self._stamp(rec, user, True)
        self.store.put_records(module, [rec])
        return self.success(rec, "insert", "record added")

    def update_one(self, module: str, rid: str, raw: Any, i: int, user: dict[str, Any],
                   duplicate_field: str | None = None, action: str = "update") -> dict[str, Any]:
        if self.row_fault():
            return self.fault_result()
        current = self.store.records[module].get(rid)
        if current is None:
            return FieldError("INVALID_DATA", INVALID_ID, {"api_name": "id", "json_path": f"$.data[{i}].id", "id": rid}).as_result()
        try:
            rec = self.clean(module, raw, i, current)
            self.check_duplicates(module, rec, i, self.duplicate_keys(module, False), rid)
        except FieldError as err:
            return err.as_result()
        self._stamp(rec, user, False)
        self.store.put_records(module, [rec], {rid: current})
        return self.success(rec, action, "record updated", duplicate_field)

    def insert(self, module: str, data: list[Any], user: dict[str, Any]) -> list[dict[str, Any]]:
        return [self.insert_one(module, raw, i, user) for i, raw in enumerate(data)]

    def resolve_external(self, module: str, field: str, value: Any) -> str | None:
        ids = self.store.find(module, field, value) if value not in (None, "") else []
        return ids[0] if ids else None

    def update(self, module: str, data: list[Any], user: dict[str, Any], external: str | None = None,
               path_id: str | None = None) -> list[dict[str, Any]]:
        out = []
        for i, raw in enumerate(data):
            rid = path_id or (raw.get("id") if isinstance(raw, dict) else None)
            if external and isinstance(raw, dict) and not path_id:
                value = raw.get(external)
                if value in (None, ""):
                    out.append(mandatory(external, f"$.data[{i}].{external}").as_result())
                    continue
                rid = self.resolve_external(module, external, value)
                if rid is None:
                    out.append(FieldError("INVALID_DATA", "The value of the external field is invalid.",
                                          {"api_name": external, "json_path": f"$.data[{i}].{external}"}).as_result())
                    continue
            if not rid:
                out.append(mandatory("id", f"$.data[{i}].id").as_result())
                continue
            out.append(self.update_one(module, str(rid), raw, i, user))
        return out

    def upsert(self, module: str, data: list[Any], user: dict[str, Any], dup_fields: list[str] | None,
               external: str | None = None) -> list[dict[str, Any]]:
        if external:
            keys = [external]
        elif dup_fields:
            keys = list(dup_fields)
        else:
            keys = self.duplicate_keys(module, False)
            keys += [k for k in DEFAULT_DUPLICATE_FIELDS.get(module, ()) if k not in keys]
            if "Name" in self.store.specs[module] and self.store.modules[module].get("generated_type") == "custom" and "Name" not in keys:
                keys.append("Name")
        out = []
        for i, raw in enumerate(data):
            match, field = None, None
            if isinstance(raw, dict):
                if raw.get("id") and not external:
                    match, field = str(raw["id"]), "id"
                else:
                    for key in keys:
                        found = self.resolve_external(module, key, raw.get(key))
                        if found:
                            match, field = found, key
                            break
            if match:
                out.append(self.update_one(module, match, raw, i, user, duplicate_field=field))
            else:
                if external and isinstance(raw, dict) and raw.get(external) in (None, ""):
                    out.append(mandatory(external, f"$.data[{i}].{external}").as_result())
                    continue
                result = self.insert_one(module, raw, i, user)
                if result["status"] == "success":
                    result["duplicate_field"] = None
                out.append(result)
        return out

    def delete(self, module: str, ids: list[str]) -> list[dict[str, Any]]:
        out = []
        for rid in ids:
            if rid not in self.store.records[module]:
                out.append({"code": "INVALID_DATA", "details": {"id": rid}, "message": INVALID_ID, "status": "error"})
                continue
            self.delete_cascade(module, rid)
            out.append({"code": "SUCCESS", "details": {"id": rid}, "message": "record deleted", "status": "success"})
        return out

    def delete_cascade(self, module: str, rid: str) -> None:
        """Delete a record, its notes and attachments, and clear lookups that point at it; each
        deleted record is remembered for GET /{module}/deleted."""
        rec = self.store.records[module][rid]
        deleted.remember(self.store, module, rec, record_name(self.store, module, rec))
        self.store.delete_record(module, rid)
        for note_id, note in list(self.store.records.get("Notes", {}).items()):
            if (note.get("Parent_Id") or {}).get("id") == rid:
                deleted.remember(self.store, "Notes", note, record_name(self.store, "Notes", note))
                self.store.delete_record("Notes", note_id)
        self.store.conn.execute("DELETE FROM attachments WHERE record_id = ?", (rid,))
        for other, specs in self.store.specs.items():
            refs = [s.api_name for s in specs.values() if s.data_type in ("lookup", "multimodulelookup")
                    and (s.lookup_module == module or s.data_type == "multimodulelookup")]
            if not refs:
                continue
            changed, old = [], {}
            for oid, orec in self.store.records[other].items():
                hit = [r for r in refs if isinstance(orec.get(r), dict) and orec[r].get("id") == rid]
                if hit:
                    old[oid] = orec
                    new = dict(orec)
                    for r in hit:
                        new[r] = None
                    changed.append(new)
            if changed:
                self.store.put_records(other, changed, old)

    # ---- reads ---------------------------------------------------------------------------------------------
    def related(self, module: str, rid: str, child: str) -> list[dict[str, Any]] | None:
        """The records of `child` linked to record `rid` of `module` (Zoho's related list named
        after the child module): a lookup to `module` holding the id, or an activity's `What_Id`
        with `$se_module` naming `module`. None when `child` has no link to `module`."""
        specs = self.store.specs.get(child, {})
        links = [s.api_name for s in specs.values() if s.data_type == "lookup" and s.lookup_module == module]
        what = [s.api_name for s in specs.values() if s.data_type == "multimodulelookup"]
        if not links and not what:
            return None
        out = []
        for rec in self.store.records.get(child, {}).values():
            if any(isinstance(rec.get(f), dict) and rec[f].get("id") == rid for f in links) or any(
                    isinstance(rec.get(f), dict) and rec[f].get("id") == rid and rec.get("$se_module") == module
                    for f in what):
                out.append(rec)
        return out

    def present(self, module: str, rec: dict[str, Any], fields: list[str] | None = None) -> dict[str, Any]:
        """A stored record as Zoho answers it: lookups carry the target's name, Owner its user."""
        specs = self.store.specs[module]
        keys = rec.keys() if fields is None else ["id", *[f for f in fields if f != "id"]]
        out: dict[str, Any] = {}
        for key in keys:
            value = rec.get(key)
            spec = specs.get(key)
            if isinstance(value, dict) and spec is not None and "id" in value:
                if spec.data_type in ("ownerlookup", "userlookup"):
                    user = self.store.users_by_id.get(value["id"])
                    value = {"name": user["full_name"], "id": user["id"], "email": user["email"]} if user else value
                elif spec.data_type == "lookup":
                    target = self.store.records.get(spec.lookup_module or "", {}).get(value["id"])
                    value = {"name": record_name(self.store, spec.lookup_module or "", target) if target else None, "id": value["id"]}
                elif spec.data_type == "multimodulelookup":
                    target_module = rec.get("$se_module") or ""
                    target = self.store.records.get(target_module, {}).get(value["id"])
                    value = {"name": record_name(self.store, target_module, target) if target else None, "id": value["id"]}
                elif spec.data_type == "parent_id":
                    pmod = value["module"]["api_name"]
                    target = self.store.records.get(pmod, {}).get(value["id"])
                    value = {"module": value["module"], "name": record_name(self.store, pmod, target) if target else None,
                             "id": value["id"]}
            out[key] = value
        if fields is None or "What_Id" in (fields or []):
            if "$se_module" in rec:
                out["$se_module"] = rec["$se_module"]
        return out
