"""The load plan: one `ModuleSpec` per Zoho-shaped table, ordered by a topological sort of the
lookups between them (read from dbt's manifest.json meta, or built directly)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, asdict
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from clinic2zoho.zoho.facts import BULK_REFUSED

NOTE_MODULE = "Notes"
ATTACHMENT_MODULE = "Attachments"


@dataclass(frozen=True)
class ModuleSpec:
    """How one Zoho-shaped table loads.

    table: the DuckDB relation (e.g. `zoho.zoho_contacts`); module: Zoho api name; external_id: the
    column (and Zoho field) holding the clinic key; lookups: column -> target module (values are the
    target's external id, turned into Zoho ids through the crosswalk); owner_column: holds a
    provider email, resolved to the org's user id. Notes and Attachments hang off a parent record:
    parent_column holds the parent's external id, parent_module names it. Attachments read the file
    from file_column; one over Zoho's attachment limit is attached as a link to url_column's address.
    subforms: columns holding a JSON list of line items (Invoiced_Items). A record module may have
    a parent too (a Call on a patient's Contact or Lead): the loader links it as Zoho's activities
    do (loader/activity_links), which a Bulk Write CSV cannot say, so such a module loads by record calls."""

    table: str
    module: str
    external_id: str | None = None
    lookups: dict[str, str] = field(default_factory=dict)
    owner_column: str | None = None
    parent_column: str | None = None
    parent_module: str | None = None
    file_column: str = "File_Path"
    file_name_column: str = "File_Name"
    subforms: tuple[str, ...] = ()
    # A parent that may sit in one of several modules (a patient's Contact or Lead): the column
    # naming each row's parent module, and the modules allowed.
    parent_module_column: str | None = None
    parent_modules: tuple[str, ...] = ()
    over_limit_column: str | None = None  # True when dbt flagged the file as over the size limit
    url_column: str | None = None  # where the clinic keeps a file over the limit: attached as a link

    @property
    def kind(self) -> str:
        if self.module == NOTE_MODULE:
            return "note"
        if self.module == ATTACHMENT_MODULE:
            return "attachment"
        return "record"

    def row_key(self, row: dict) -> str | None:
        """A row's key in the journal: its external id, else a note's title or an attachment's file name."""
        if self.external_id and row.get(self.external_id) not in (None, ""):
            return str(row[self.external_id])
        if self.kind == "note":
            return row.get("Note_Title")
        if self.kind == "attachment":
            return row.get(self.file_name_column)
        return None

    @property
    def name(self) -> str:
        """The journal's name for this load unit (module api name; attachments per parent)."""
        return self.module

    @property
    def bulk_allowed(self) -> bool:
        # Line-item subforms need a second CSV in Bulk Write; the record API takes them inline. A
        # record's parent in one of several modules needs `$se_module` beside it: record API too.
        return self.module not in BULK_REFUSED and not self.subforms and not (self.kind == "record" and self.parent_column)

    def dependencies(self) -> set[str]:
        deps = set(self.lookups.values())
        if self.parent_module:
            deps.add(self.parent_module)
        deps.update(self.parent_modules)
        deps.discard(self.module)  # a self-lookup does not order modules
        return deps

    def to_dict(self) -> dict:
        data = asdict(self)
        data["subforms"] = list(self.subforms)
        data["parent_modules"] = list(self.parent_modules)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "ModuleSpec":
        data = dict(data)
        data["subforms"] = tuple(data.get("subforms") or ())
        data["parent_modules"] = tuple(data.get("parent_modules") or ())
        data["lookups"] = dict(data.get("lookups") or {})
        return cls(**data)


class PlanError(ValueError):
    pass


@dataclass(frozen=True)
class LoadPlan:
    specs: tuple[ModuleSpec, ...]

    def __post_init__(self) -> None:
        names = [s.module for s in self.specs]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise PlanError(f"more than one table loads module(s) {sorted(dup)}")

    def spec(self, module: str) -> ModuleSpec:
        for s in self.specs:
            if s.module == module:
                return s
        raise PlanError(f"module {module!r} is not in the load plan ({', '.join(self.modules())})")

    def modules(self) -> list[str]:
        return [s.module for s in self.specs]

    def groups(self) -> list[list[str]]:
        """Modules in dependency order; the modules of one group are independent and may load in
        parallel. Lookups to modules outside the plan (e.g. Products made by schema preparation)
        do not order anything."""
        known = set(self.modules())
        sorter: TopologicalSorter[str] = TopologicalSorter()
        for s in self.specs:
            sorter.add(s.module, *(d for d in s.dependencies() if d in known))
        try:
            sorter.prepare()
        except CycleError as exc:
            raise PlanError(f"lookups form a cycle: {' -> '.join(exc.args[1])}") from exc
        groups: list[list[str]] = []
        while sorter.is_active():
            ready = sorted(sorter.get_ready())
            groups.append(ready)
            sorter.done(*ready)
        return groups

    def order(self) -> list[str]:
        return [m for g in self.groups() for m in g]

    def select(self, modules: list[str] | None) -> "LoadPlan":
        if not modules:
            return self
        for m in modules:
            self.spec(m)
        return LoadPlan(tuple(s for s in self.specs if s.module in modules))

    def to_json(self) -> str:
        return json.dumps([s.to_dict() for s in self.specs], indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "LoadPlan":
        return cls(tuple(ModuleSpec.from_dict(d) for d in json.loads(text)))


def _spec_from_node(node: dict) -> ModuleSpec | None:
    meta = dict(node.get("config", {}).get("meta") or {})
    meta.update(node.get("meta") or {})
    module = meta.get("zoho_module")
    if not module:
        return None
    relation = node.get("alias") or node["name"]
    table = f"{node['schema']}.{relation}"
    lookups = dict(meta.get("lookups") or {})
    parent_column = meta.get("parent_column")
    parent_module = meta.get("parent_module")
    poly = meta.get("parent_lookup") or {}
    parent_module_column, parent_modules = None, ()
    if poly:
        parent_column = parent_column or poly.get("column")
        parent_module_column = poly.get("module_column")
        parent_modules = tuple(poly.get("modules") or ())
    if module in (NOTE_MODULE, ATTACHMENT_MODULE):
        parent_column = parent_column or ("Parent_Id" if "Parent_Id" in lookups else None)
        if parent_column is None and len(lookups) == 1:
            parent_column = next(iter(lookups))
        if parent_column is None:
            raise PlanError(f"model {node['name']}: {module} need meta parent_column (the parent's external id)")
        parent_module = parent_module or lookups.pop(parent_column, None)
        lookups.pop(parent_column, None)
        if not parent_module:
            raise PlanError(f"model {node['name']}: meta lookups must name the parent module of {parent_column}")
    subforms = meta.get("subforms") or (["Invoiced_Items"] if module == "Invoices" else [])
    extra = {k: meta[k] for k in ("file_column", "file_name_column") if meta.get(k)}
    if module == ATTACHMENT_MODULE and meta.get("match_on"):
        extra.setdefault("file_name_column", meta["match_on"])
    return ModuleSpec(
        table=table,
        module=module,
        external_id=meta.get("external_id"),
        lookups=lookups,
        owner_column=meta.get("owner_column"),
        parent_column=parent_column,
        parent_module=parent_module,
        subforms=tuple(subforms),
        parent_module_column=parent_module_column,
        parent_modules=parent_modules,
        over_limit_column=meta.get("over_limit_column") or ("Over_Size_Limit" if module == ATTACHMENT_MODULE else None),
        url_column=meta.get("url_column"),
        **extra,
    )


def plan_from_manifest(manifest_path: str | Path) -> LoadPlan:
    """Build the plan from dbt's target/manifest.json: every model whose meta names a zoho_module."""
    path = Path(manifest_path)
    if not path.is_file():
        raise PlanError(f"{path}: dbt manifest not found (run `dbt parse` or `dbt build` first)")
    manifest = json.loads(path.read_text())
    specs = []
    for uid, node in sorted(manifest.get("nodes", {}).items()):
        if node.get("resource_type") != "model":
            continue
        spec = _spec_from_node(node)
        if spec is not None:
            specs.append(spec)
    if not specs:
        raise PlanError(f"{path}: no model carries meta zoho_module")
    return LoadPlan(tuple(specs))
