"""The mapping proposal: source entities → Zoho modules, source columns → fields (existing,
planned or new custom fields), pick-list value maps, each with a confidence and its reasons."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
from rapidfuzz import fuzz

from clinic2zoho.landing.names import quote_ident
from clinic2zoho.mapping import model_columns
from clinic2zoho.mapping.catalogue import Catalogue, TargetField, TargetModule, custom_module
from clinic2zoho.mapping.detectors import ValueProfile, profile_values
from clinic2zoho.mapping.field_kinds import column_kind, evidence
from clinic2zoho.mapping.header_words import normal
from clinic2zoho.mapping.naming import api_name, singular, words
from clinic2zoho.mapping.profile import (WHOLE_RECORD_COLUMNS, ColumnProfile, TableProfile, key_overlap, profile_format,
                                        raw_tables, trimmed)
from clinic2zoho.mapping.scoring import fit, value_map
from clinic2zoho.zoho.facts import FIELD_LENGTHS

ENTITY_MATCH = 0.85  # entity name similarity at which an entity maps to a module
FIELD_ACCEPT = 0.6  # confidence at which a column takes an existing or planned field
FK_OVERLAP = 0.9  # share of a column's values found in another entity's key: a reference
LOW_CONFIDENCE = 0.75  # below this a choice is listed first on the review page
_NO_LOOKUP_MODULES = {"Users", "Events", "Tasks", "Notes", "Attachments"}
_MONEY_WORDS = ("amount", "cost", "price", "revenue", "expense", "coverage", "paid", "balance",
                "charge", "fee", "total", "outstanding", "payment")


DEMOTED = 0.3  # the score of a name match the column's values contradict
NAME_ONLY_CAP = 0.88  # a name match the values neither confirm nor contradict stays below 0.9 unless exact
VALUE_SAMPLE = 20000  # value occurrences measured per column (counts scaled down beyond it)
# categories a clinic keeps for care but a CRM has no use for: proposed as not migrated, with the
# reason; a person opts in by setting a target in the mapping file
SENSITIVE_CATEGORIES = {
    "race": ("race", "raza", "rasse"),
    "ethnicity": ("ethnicity", "ethnic", "ethnic group", "ethnie", "etnia", "ethnizitaet"),
    "income": ("income", "household income", "annual income", "einkommen", "ingresos", "ingreso", "salary"),
    "religion": ("religion", "religious affiliation", "faith", "konfession", "religion affiliation", "religion"),
    "sexual orientation": ("sexual orientation", "orientation", "sexuelle orientierung", "orientacion sexual"),
}


def sensitive_category(column: str) -> str | None:
    """The sensitive category a column's name says it holds (race, ethnicity, income, ...)."""
    form = normal(column)
    tokens = set(form.split())
    for category, names in SENSITIVE_CATEGORIES.items():
        for name in names:
            if form == name or (" " not in name and name in tokens) or (" " in name and name in form):
                return category
    return None


_IDENT_WORDS = {"id", "code", "number", "zip", "postal", "npi", "diagnosis", "ssn", "identifier", "reference"}
_OPEN_WORDS = {"county", "district", "region", "suburb", "town", "city", "birthplace", "place", "description",
               "reason", "reasondescription", "comment", "comments", "note", "notes", "remarks"}
_PHONE_WORDS = {"phone", "telephone", "mobile", "cell", "fax", "tel"}


def _new_field_type(p: ColumnProfile) -> dict[str, Any]:
    """Data type and length for a column no existing field fits."""
    t, name = p.inferred_type, set(words(p.name).split())
    money = any(w in " ".join(name) for w in _MONEY_WORDS)
    if money and t in {"decimal", "integer", "boolean"}:
        return {"data_type": "currency"}
    ident = name & _IDENT_WORDS or any(w.endswith(("id", "code")) for w in name)
    if t in {"integer", "decimal", "boolean"} and ident:  # codes and ids are labels, not numbers
        return {"data_type": "text", "length": 60 if p.max_length <= 60 else 120}
    # few values in this export, but an open list (places, free-text reasons): text, not a pick-list
    open_list = name & _OPEN_WORDS
    if p.is_categorical and t != "boolean" and not open_list:
        return {"data_type": "picklist"}
    if t == "decimal":
        return {"data_type": "double"}
    if t == "phone" and not name & _PHONE_WORDS:  # SSN-like numbers look like phones
        t = "text"
    simple = {"date": "date", "datetime": "datetime", "email": "email", "phone": "phone",
              "url": "website", "boolean": "boolean", "long_text": "textarea"}
    if t in simple:
        return {"data_type": simple[t]}
    if t == "integer" and p.max_length <= FIELD_LENGTHS["integer"]:
        return {"data_type": "integer"}
    length = FIELD_LENGTHS["text"] if p.max_length > 120 else (60 if p.max_length <= 60 else 120)
    return {"data_type": "text", "length": length}


_DATE_TYPES = {"date", "datetime"}


def _key_column(t: TableProfile, manifest_keys: dict[str, str]) -> str | None:
    """The entity's key: the manifest's, a column named as the key, else a unique, filled,
    identifier-like column whose name says it identifies (never a date: a creation time is unique
    too)."""
    if t.entity in manifest_keys and t.column(manifest_keys[t.entity]):
        return manifest_keys[t.entity]
    stem = singular(t.entity)
    for name in ("id", f"{stem}_id", f"{t.entity}_id", f"{stem}id"):
        if (c := t.column(name)) and c.inferred_type not in _DATE_TYPES:
            return name
    unique = [c for c in t.columns if c.non_null == t.rows and c.distinct == t.rows and c.rows
              and c.inferred_type in {"integer", "text", "uuid"}
              and (set(words(c.name).split()) & _IDENT_WORDS or words(c.name).endswith("id"))]
    return unique[0].name if unique else None


def _entity_module(entity: str, catalogue: Catalogue) -> tuple[TargetModule | None, float, str]:
    best: tuple[TargetModule | None, float, str] = (None, 0.0, "")
    for module in catalogue.modules.values():
        for hint in module.entities:
            score = fuzz.ratio(words(entity), words(hint)) / 100.0
            if score > best[1]:
                best = (module, score, hint)
    return best


class Proposer:
    def __init__(self, con: duckdb.DuckDBPyConnection, fmt: str, catalogue: Catalogue,
                 manifest: dict | None = None, dbt_dir: Path | None = None) -> None:
        self.con, self.fmt, self.catalogue, self.manifest = con, fmt, catalogue, manifest or {}
        self.dbt_dir = dbt_dir
        # entities no module, custom object or value list names are only counted, not typed
        named = {o["entity"] for o in self.manifest.get("custom_objects") or []}
        light = {t.split("__", 1)[1] for t in raw_tables(con, fmt)}
        light = {e for e in light if e not in catalogue.value_lists and e not in named
                 and not any(r.get("entity") == e for r in self.manifest.get("relations") or [])
                 and _entity_module(e, catalogue)[1] < ENTITY_MATCH}
        self.profiles = {t.entity: t for t in profile_format(con, fmt, light)}
        entities = self.manifest.get("entities") or {}
        manifest_keys = {k: v["key"] for k, v in entities.items() if isinstance(v, dict) and "key" in v}
        for obj in self.manifest.get("custom_objects") or []:
            manifest_keys[obj["entity"]] = obj["key"]
        self.keys = {e: _key_column(t, manifest_keys) for e, t in self.profiles.items()}
        self.entity_modules: dict[str, dict[str, Any]] = {}
        self.models = model_columns.zoho_model_columns(dbt_dir) if dbt_dir else {}
        self._value_profiles: dict[tuple[str, str], ValueProfile | None] = {}

    # -- values -----------------------------------------------------------------------------
    def value_profile(self, entity: str, col: ColumnProfile) -> ValueProfile | None:
        """The detectors' profile of a column (detectors.py), from its most frequent values."""
        if (entity, col.name) not in self._value_profiles:
            vp = None
            if col.non_null and col.name not in WHOLE_RECORD_COLUMNS:
                q = trimmed(col.name)
                rows = self.con.execute(
                    f"select {q} v, count(*) n from {self.profiles[entity].relation} where {q} is not null "
                    f"group by 1 order by 2 desc, 1 limit 4000").fetchall()  # by position: a column may be named v
                total = sum(n for _, n in rows) or 1
                scale = min(1.0, VALUE_SAMPLE / total)
                vp = profile_values([v for v, n in rows for _ in range(max(1, round(n * scale)))])
            self._value_profiles[(entity, col.name)] = vp
        return self._value_profiles[(entity, col.name)]

    def _is_key(self, entity: str, col: ColumnProfile) -> tuple[bool, str]:
        """Whether a column can carry the external id: filled, one row per value in each landed
        batch, not dates (a key the values contradict is no key)."""
        if col.inferred_type in _DATE_TYPES or col.non_null < col.rows:
            return False, (f"values: {col.inferred_type}s cannot be a key" if col.inferred_type in _DATE_TYPES
                           else f"values: filled in {col.non_null} of {col.rows} rows, not a key")
        relation = self.profiles[entity].relation
        cols = {r[0] for r in self.con.execute(f"select * from {relation} limit 0").description}
        by = ', "_batch_id"' if "_batch_id" in cols else ""
        q = '"' + col.name.replace('"', '""') + '"'
        repeated = self.con.execute(f"select count(*) from (select {q} from {relation} group by {q}{by} "
                                    f"having count(*) > 1)").fetchone()[0]
        if repeated:
            return False, f"values: {repeated} values repeat, not a key"
        return True, f"values: unique and filled in all {col.rows} rows"

    # -- entities ---------------------------------------------------------------------------
    def _map_entities(self) -> None:
        custom = {o["entity"]: o for o in self.manifest.get("custom_objects") or []}
        relations = {r["entity"]: r for r in self.manifest.get("relations") or [] if r.get("type") == "many_to_many"}
        for entity in self.profiles:
            if entity in self.catalogue.value_lists:
                vl = self.catalogue.value_lists[entity]
                self.entity_modules[entity] = {"kind": "value_list", "module": vl["module"], "field": vl["field"],
                                               "confidence": 1.0, "reasons": ["the design names this entity a list of pick-list values"]}
                continue
            if entity in custom:
                label = custom[entity].get("label") or words(entity).title()
                name = api_name(label if label.endswith("s") else label + "s")
                module = custom_module(name, label, "custom", f"Clinic_{api_name(label)}_Id", entity)
                self.catalogue.modules.setdefault(name, module)
                self.entity_modules[entity] = {"kind": "module", "module": name, "confidence": 1.0,
                                               "reasons": ["declared a custom object in the export's manifest"]}
                continue
            if entity in relations:
                rel = relations[entity]
                left, right = rel["left"]["entity"], rel["right"]["entity"]
                name = api_name(words(entity).title())
                label = words(entity).title()
                module = custom_module(name, label, "junction", f"Clinic_{api_name(singular(entity))}_Id", entity)
                for side in (left, right):
                    target = self._module_of(side)
                    if target:
                        fname = api_name(singular(side))
                        module.fields[fname] = TargetField(fname, "lookup", lookup=target, aliases=[rel["left" if side == left else "right"]["column"]])
                self.catalogue.modules.setdefault(name, module)
                self.entity_modules[entity] = {"kind": "module", "module": name, "confidence": 1.0,
                                               "reasons": [f"declared many-to-many between {left} and {right}: a junction module"]}
                continue
            module, score, hint = _entity_module(entity, self.catalogue)
            if module and score >= ENTITY_MATCH:
                self.entity_modules[entity] = {"kind": "module", "module": module.api_name, "confidence": round(score, 2),
                                               "reasons": [f"entity name {entity!r} ~ {hint!r} ({score*100:.0f})"]}
            else:
                self.entity_modules[entity] = {
                    "kind": "not_migrated", "module": None, "confidence": round(1 - score, 2),
                    "reasons": [f"no target module in the migration design (closest {hint!r}, {score*100:.0f});"
                                " rows stay in raw; add a custom object to carry them"],
                }

    def _module_of(self, entity: str) -> str | None:
        if entity in self.entity_modules:
            em = self.entity_modules[entity]
            return em["module"] if em["kind"] == "module" else None
        module, score, _ = _entity_module(entity, self.catalogue)
        return module.api_name if module and score >= ENTITY_MATCH else None

    # -- references -------------------------------------------------------------------------
    def _reference(self, entity: str, col: ColumnProfile) -> tuple[str, float, str] | None:
        """The entity whose key this column holds, if any (checked on the values)."""
        if col.inferred_type not in {"uuid", "text", "integer", "url"} or col.non_null == 0:
            return None
        table = self.profiles[entity].relation
        col_words = words(col.name)
        best = None
        for other, key in self.keys.items():
            if key is None or (other == entity and col.name == key):
                continue
            other_words = {singular(w) for w in words(other).split()}
            named = any(w in col_words.replace(" ", "") for w in other_words) or any(
                singular(w) in other_words for w in col_words.split())
            if not named and col.inferred_type != "uuid":
                continue
            # the key, or another unique identifier of the other entity (an NPI, a member number)
            parent_cols = [key] + [c.name for c in self.profiles[other].columns
                                   if c.name != key and c.distinct == c.non_null == self.profiles[other].rows > 0
                                   and any(w in ("id", "npi", "number", "identifier", "code") for w in words(c.name).split())]
            shares = [(key_overlap(self.con, table, col.name, self.profiles[other].relation, pc), pc) for pc in parent_cols]
            share, parent_col = max(shares)
            if share >= FK_OVERLAP and (best is None or share > best[1] or (named and share == best[1])):
                best = (other, share, parent_col)
        return best

    # -- columns ----------------------------------------------------------------------------
    def _entity_fields(self, entity: str) -> list[dict[str, Any]]:
        em = self.entity_modules[entity]
        module = self.catalogue.modules[em["module"]]
        profile = self.profiles[entity]
        key = self.keys[entity]
        choices: dict[str, dict[str, Any]] = {}
        taken: set[str] = set()
        candidates: list[tuple[float, str, TargetField, list[str]]] = []
        demoted: dict[str, list[str]] = {}  # column -> name matches its values contradict, with the evidence
        for col in profile.columns:
            if col.name in WHOLE_RECORD_COLUMNS:
                choices[col.name] = self._skip(col, ["carries the whole source record; kept in raw for lineage"], 0.95)
                continue
            if col.name in self.catalogue.sensitive_columns:
                choices[col.name] = self._skip(col, ["a government identifier: not copied into the CRM unless the clinic"
                                                     " sets a target for it here"], 0.9)
                continue
            if category := sensitive_category(col.name):
                choices[col.name] = self._skip(col, [f"a sensitive category ({category}): not migrated; a CRM needs no "
                                                     f"{category} to serve the patient. To opt in, set a target here"
                                                     " (e.g. a new custom field) and confirm"], 0.9)
                continue
            if col.name == key and module.kind != "users" and module.external_id in module.fields:
                target = module.fields[module.external_id]
                is_key, why = self._is_key(entity, col)
                if is_key:
                    choices[col.name] = self._choice(col, module, target, 0.98,
                                                     [f"key column of {entity}: the external id", why])
                    taken.add(target.api_name)
                    continue
                demoted.setdefault(col.name, []).append(f"{target.api_name} (the external id) demoted: {why}")
            ref = self._reference(entity, col)
            if ref:
                choice = self._reference_choice(entity, col, module, ref, taken)
                if choice:
                    choices[col.name] = choice
                    if choice.get("field"):
                        taken.add(choice["field"])
                    continue
            for target in module.fields.values():
                if target.data_type in {"lookup", "ownerlookup"} or target.external:
                    continue
                score, reasons = fit(col, target)
                score, reasons = self._weigh_values(entity, col, target, score, reasons, demoted)
                candidates.append((score, col.name, target, reasons))
        candidates.sort(key=lambda c: -c[0])
        alternatives: dict[str, list[dict]] = {}
        for score, cname, target, reasons in candidates:
            alternatives.setdefault(cname, [])
            if len(alternatives[cname]) < 3:
                alternatives[cname].append({"field": target.api_name, "score": round(score, 2)})
            if cname in choices or target.api_name in taken or score < FIELD_ACCEPT:
                continue
            choices[cname] = self._choice(profile.column(cname), module, target, score, reasons)
            taken.add(target.api_name)
        out = []
        for col in profile.columns:
            choice = choices.get(col.name) or self._new_or_skip(col, module, alternatives.get(col.name, []), taken)
            if choice.get("field"):
                taken.add(choice["field"])
            alts = [a for a in alternatives.get(col.name, []) if a["field"] != choice.get("field")]
            if alts:
                choice["alternatives"] = alts
            if demoted.get(col.name):
                choice["reasons"] = list(choice["reasons"]) + demoted[col.name]
            out.append(choice)
        return out

    def _weigh_values(self, entity: str, col: ColumnProfile, target: TargetField, score: float,
                      reasons: list[str], demoted: dict[str, list[str]]) -> tuple[float, list[str]]:
        """A name match the column's values contradict is demoted (the evidence kept for the
        chosen field's reasons); values that confirm it carry it to full confidence; a name alone
        stays below 0.9 unless it is the field's own name."""
        ev = evidence(self.value_profile(entity, col), target)
        if ev is None:
            exact = reasons and reasons[0].endswith("(100)")
            return (score if exact else min(score, NAME_ONLY_CAP)), reasons
        if ev.contradicts:
            if score >= FIELD_ACCEPT:
                demoted.setdefault(col.name, []).append(
                    f"{target.api_name} demoted ({reasons[0]}): {ev.reason}")
            return min(score, DEMOTED), [*reasons, ev.reason]
        if ev.confirms:  # values confirm a name already good enough; they never stand in for one
            return (min(0.99, score + 0.05) if score >= FIELD_ACCEPT else score), [*reasons, ev.reason]
        return min(score, NAME_ONLY_CAP), [*reasons, ev.reason]

    def _reference_choice(self, entity: str, col: ColumnProfile, module: TargetModule,
                          ref: tuple[str, float, str], taken: set[str]) -> dict[str, Any] | None:
        other, share, parent_col = ref
        reason = f"values: {share:.0%} found in {other}.{parent_col} (a reference)"
        if module.kind == "users":
            return self._skip(col, [reason, "providers are matched to Zoho users by email; other references are not carried"], 0.7)
        other_em = self.entity_modules.get(other, {})
        if other_em.get("kind") == "value_list":
            target = self.catalogue.modules[other_em["module"]].fields.get(other_em["field"])
            if target and other_em["module"] == module.api_name:
                vl = self.catalogue.value_lists[other]
                values = self._value_list(other, vl["value_column"])
                choice = self._choice(col, module, target, 0.9, [reason, f"{other} is the list of {target.api_name} values"])
                choice["value_map"] = value_map(values, target.values, target.value_aliases)
                choice["value_map_via"] = f"{other}.{vl['value_column']}"
                return choice
            return None
        target_module = self._module_of(other)
        if target_module is None:
            return self._skip(col, [reason, f"{other} is not migrated, so the reference has nowhere to point"], 0.7) \
                if module.kind != "standard" and module.kind != "custom" else None
        lookups = [f for f in module.fields.values()
                   if f.data_type in {"lookup", "ownerlookup"} and f.lookup == target_module and f.api_name not in taken]
        if target_module == "Users":
            lookups += [f for f in module.fields.values() if f.data_type == "email" and f.api_name not in taken
                        and not f.external]
        if lookups:
            ranked = sorted(((fit(col, f)[0], f) for f in lookups), key=lambda x: -x[0])
            target = ranked[0][1]
            return self._choice(col, module, target, min(0.99, 0.75 + 0.25 * ranked[0][0]),
                                [reason, f"{target.api_name} is a lookup to {target_module}"])
        if not module.accepts_custom_fields:
            return self._skip(col, [reason, f"{module.api_name} takes no custom fields"], 0.7)
        # a planned field named for the reference (e.g. Appointment_Id holding the visit's key)
        named = sorted(((fit(col, f)[0], f) for f in module.fields.values() if f.api_name not in taken
                        and f.data_type not in {"lookup", "ownerlookup"} and not f.external), key=lambda x: -x[0])
        if named and named[0][0] >= 0.85:
            return self._choice(col, module, named[0][1], named[0][0], [reason, *fit(col, named[0][1])[1]])
        # no lookup field yet: a new lookup field (a second reference to a provider keeps its key)
        if target_module in _NO_LOOKUP_MODULES:  # Zoho lookups cannot point at users or activities
            spec = {"data_type": "text", "length": 60}
        else:
            spec = {"data_type": "lookup", "lookup": target_module}
        name = self._free_name(module, api_name(col.name))
        return self._new(col, module, name, spec, 0.8, [reason, f"no lookup to {target_module} on {module.api_name}: a new one"])

    def _value_list(self, entity: str, column: str) -> list[tuple[str, int]]:
        table = self.profiles[entity].relation
        q = quote_ident(column)
        rows = self.con.execute(  # by position: the export's column may itself be named v
            f"select cast({q} as varchar) v, count(*) n from {table} where {q} is not null group by 1 order by 1"
        ).fetchall()
        return [(str(v), int(n)) for v, n in rows]

    def _free_name(self, module: TargetModule, name: str) -> str:
        if name in module.fields:
            name = api_name("Clinic_" + name)
        return name

    def _new_or_skip(self, col: ColumnProfile, module: TargetModule, alts: list[dict], taken: set[str]) -> dict[str, Any]:
        if col.inferred_type == "empty":
            return self._skip(col, ["column is empty in this export"], 0.9)
        if not module.accepts_custom_fields:
            return self._skip(col, [f"{module.api_name} takes no custom fields; no field fits"], 0.6)
        spec = _new_field_type(col)
        best = alts[0]["score"] if alts else 0.0
        name = self._free_name(module, api_name(col.name))
        reasons = [f"no field fits (best {alts[0]['field']} at {best:.2f})" if alts else "no field to compare",
                   f"type: {col.inferred_type}, {col.distinct} distinct, max length {col.max_length}"]
        choice = self._new(col, module, name, spec, max(0.5, round(1 - best / 1.2, 2)), reasons)
        if spec["data_type"] == "picklist":
            choice["value_map"] = value_map(col.values, [])
        return choice

    # -- building the choice records ------------------------------------------------------------
    def _base(self, col: ColumnProfile) -> dict[str, Any]:
        profile: dict[str, Any] = {"type": col.inferred_type, "null_rate": round(col.null_rate, 3),
                                   "distinct": col.distinct, "max_length": col.max_length}
        entity = next((e for e, t in self.profiles.items() if t.column(col.name) is col), None)
        vp = self.value_profile(entity, col) if entity else None
        if vp is not None and (found := column_kind(vp)):
            # what the values clearly are, recorded so the confirmation can refuse a target of another kind
            profile["values"] = {"kind": found[0], "share": round(found[1], 2)}
        return {"column": col.name, "profile": profile}

    def _skip(self, col: ColumnProfile, reasons: list[str], confidence: float) -> dict[str, Any]:
        return {**self._base(col), "target": "skip", "confidence": round(confidence, 2), "reasons": reasons}

    def _choice(self, col: ColumnProfile, module: TargetModule, target: TargetField,
                score: float, reasons: list[str]) -> dict[str, Any]:
        choice = {**self._base(col), "target": f"{module.api_name}.{target.api_name}", "module": module.api_name,
                  "field": target.api_name, "data_type": target.data_type, "exists_in_org": target.in_org,
                  "confidence": round(score, 2), "reasons": reasons}
        choice |= target.spec()  # length, lookup, external_id where the field has them
        if target.via:
            choice["via"] = target.via
        if target.data_type in {"picklist", "multiselectpicklist"} and col.values and "value_map" not in choice:
            choice["value_map"] = value_map(col.values, target.values, target.value_aliases)
        return choice

    def _new(self, col: ColumnProfile, module: TargetModule, name: str, spec: dict, score: float,
             reasons: list[str]) -> dict[str, Any]:
        choice = {**self._base(col), "target": f"{module.api_name}.{name}", "module": module.api_name, "field": name,
                  **spec, "exists_in_org": False, "new_field": True, "confidence": round(score, 2), "reasons": reasons}
        module.fields[name] = TargetField(name, spec["data_type"], spec.get("length"), lookup=spec.get("lookup"))
        return choice

    # -- the whole proposal -----------------------------------------------------------------------
    def propose(self) -> dict[str, Any]:
        if not self.profiles:
            raise ValueError(f"no landed tables raw.{self.fmt}__* in the warehouse: land the export first")
        self._map_entities()
        entities = []
        used_modules: dict[str, list[str]] = {}
        for entity, profile in self.profiles.items():
            em = self.entity_modules[entity]
            record: dict[str, Any] = {"entity": entity, "table": profile.table, "rows": profile.rows,
                                      "key": self.keys[entity], **{k: v for k, v in em.items() if v is not None}}
            if em["kind"] == "module":
                used_modules.setdefault(em["module"], []).append(entity)
                record["fields"] = self._entity_fields(entity)
            entities.append(record)
        modules = []
        for name, ents in used_modules.items():
            m = self.catalogue.modules[name]
            item: dict[str, Any] = {"api_name": name, "kind": m.kind, "exists_in_org": m.in_org,
                                    "external_id": m.external_id, "model": m.model, "entities": ents}
            if m.kind in {"custom", "junction"}:
                item |= {"singular_label": m.singular_label, "plural_label": m.plural_label}
            always = [self._planned(m.fields[f]) for f in m.fields if m.fields[f].always]
            if always:
                item["planned_fields"] = always
            if m.helper_columns:
                item["helper_columns"] = list(m.helper_columns)
            modules.append(item)
        for name, m in self.catalogue.modules.items():  # companions: Tasks beside Events, Invoices beside billing
            if name not in used_modules and m.companion_of in used_modules:
                item = {"api_name": name, "kind": m.kind, "exists_in_org": m.in_org, "external_id": m.external_id,
                        "model": m.model, "entities": [], "companion_of": m.companion_of,
                        "planned_fields": [self._planned(m.fields[f]) for f in m.fields if m.fields[f].always]}
                if m.helper_columns:
                    item["helper_columns"] = list(m.helper_columns)
                modules.append(item)
        mapping = {
            "version": 1,
            "format": self.fmt,
            "proposed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "modules": modules,
            "records": self.catalogue.records,
            "entities": entities,
        }
        value_maps = self._value_maps(entities, {m["api_name"] for m in modules})
        if value_maps:
            mapping["value_maps"] = value_maps
        model_columns.annotate(mapping, self.models, self.dbt_dir)
        return mapping

    # -- value maps the models read as seeds ----------------------------------------------------
    def _value_maps(self, entities: list[dict[str, Any]], modules: set[str]) -> dict[str, Any]:
        """One value map per seed the design names, for the modules this export feeds: the values
        found in the export (normalised as the models compare them) and every value and synonym of
        the design. The field choices point at it (`value_map_in`); it is the one place to edit."""
        out: dict[str, Any] = {}
        for seed, spec in self.catalogue.value_maps.items():
            module_name, field_name = spec["field"].split(".", 1)
            targets = {spec["field"], *(spec.get("also") or [])}
            if module_name not in modules or module_name not in self.catalogue.modules:
                continue
            target = self.catalogue.modules[module_name].fields.get(field_name)
            if target is None:
                continue
            norm = _NORMALISE[spec.get("normalise", "none")]
            values: dict[str, dict[str, Any]] = {}
            columns: list[str] = []
            for ent in entities:
                for choice in ent.get("fields") or []:
                    if choice.get("target") not in targets:
                        continue
                    columns.append(choice.get("value_map_via") or f"{ent['entity']}.{choice['column']}")
                    for entry in choice.pop("value_map", None) or []:
                        source = norm(str(entry["source"]))
                        if source in values:
                            values[source]["rows"] = values[source].get("rows", 0) + entry.get("rows", 0)
                        else:
                            values[source] = {**entry, "source": source}
                    choice.pop("value_map_via", None)
                    choice["value_map_in"] = f"value_maps.{seed}"
            for value in target.values:
                for word in [value, *(target.value_aliases.get(value) or [])]:
                    values.setdefault(norm(word), {"source": norm(word), "zoho": value, "from": "design"})
            extra = spec.get("columns") or {}
            for entry in values.values():
                for column, cspec in extra.items():
                    entry[column] = (cspec.get("values") or {}).get(entry["zoho"], cspec.get("default"))
            out[seed] = {"field": spec["field"], **({"also": list(spec["also"])} if spec.get("also") else {}),
                         "key": spec["key"], "normalise": spec.get("normalise", "none"),
                         "source_columns": columns,
                         **({"columns": extra} if extra else {}),
                         "values": sorted(values.values(), key=lambda e: (e.get("from") == "design", e["source"]))}
        return out

    @staticmethod
    def _planned(f: TargetField) -> dict[str, Any]:
        out: dict[str, Any] = {"field": f.api_name, "data_type": f.data_type, "exists_in_org": f.in_org}
        out |= f.spec()  # length, lookup, external_id where the field has them
        if f.values:
            out["values"] = f.values
        return out


_NORMALISE = {"none": lambda v: v, "lower": lambda v: v.lower(), "lower_trim": lambda v: v.strip().lower()}


def read_manifest(con: duckdb.DuckDBPyConnection, fmt: str) -> dict | None:
    """The generic export's manifest, found through the landed batch's source folder (if any)."""
    if fmt != "generic":
        return None
    try:
        rows = con.execute("select source from raw._batches where format = ? order by started_at desc", [fmt]).fetchall()
    except duckdb.Error:
        return None
    for (source,) in rows:
        path = Path(str(source))
        manifest = path / "manifest.json" if path.is_dir() else path.parent / "manifest.json"
        if manifest.is_file():
            return json.loads(manifest.read_text())
    return None
