"""The target catalogue: the clinic's target design (`target_model.yml`) merged with the org's
live metadata read through the Zoho client. The org wins where a field already exists."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from clinic2zoho import yaml_docs
from clinic2zoho.zoho.facts import FIELD_LENGTHS

TARGET_MODEL = Path(__file__).with_name("target_model.yml")

# Zoho data types the proposal and schema preparation use, with the length a field takes when the design
# names none: the most Zoho allows.
DEFAULT_LENGTHS = {t: FIELD_LENGTHS[t] for t in ("text", "email", "phone", "website", "textarea", "integer")}


class MetadataClient(Protocol):
    def modules(self) -> list[dict]: ...
    def fields(self, module: str) -> list[dict]: ...


@dataclass
class TargetField:
    api_name: str
    data_type: str
    length: int | None = None
    label: str | None = None
    aliases: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)  # pick-list values
    value_aliases: dict[str, list[str]] = field(default_factory=dict)  # value -> source words for it
    lookup: str | None = None  # module a lookup points at
    in_org: bool = False
    external: bool = False
    always: bool = False  # the model fills it whatever maps onto it: planned (and created) always
    via: str | None = None  # the model writes it into another column (Notes: the date in Note_Title)

    def spec(self) -> dict[str, Any]:
        """The field as schema preparation creates it: its type, and its length, lookup and External ID
        where it has them."""
        out: dict[str, Any] = {"data_type": self.data_type}
        if self.length:
            out["length"] = self.length
        if self.lookup:
            out["lookup"] = self.lookup
        if self.external:
            out["external_id"] = True
        return out


@dataclass
class TargetModule:
    api_name: str
    kind: str
    entities: list[str]
    external_id: str | None
    model: str | None
    fields: dict[str, TargetField]
    in_org: bool = False
    singular_label: str | None = None
    plural_label: str | None = None
    companion_of: str | None = None  # written alongside another module (Tasks beside Events)
    helper_columns: list[str] = field(default_factory=list)  # model columns that are not Zoho fields

    @property
    def accepts_custom_fields(self) -> bool:
        return self.kind in {"standard", "custom", "junction"}


@dataclass
class Catalogue:
    modules: dict[str, TargetModule]
    records: list[dict]
    value_lists: dict[str, dict]
    value_maps: dict[str, dict] = field(default_factory=dict)  # seed name -> value map design
    sensitive_columns: list[str] = field(default_factory=list)  # never proposed as a target


def _org_field(f: dict) -> TargetField:
    lookup = None
    if isinstance(f.get("lookup"), dict):
        lookup = (f["lookup"].get("module") or {}).get("api_name")
    return TargetField(
        api_name=f["api_name"],
        data_type=str(f.get("data_type", "text")),
        length=f.get("length"),
        label=f.get("field_label") or f.get("display_label"),
        values=[v.get("actual_value") or v.get("display_value") for v in f.get("pick_list_values") or []],
        lookup=lookup,
        in_org=True,
        external=bool(f.get("external")),
    )


def load_catalogue(client: MetadataClient | None, path: Path = TARGET_MODEL) -> Catalogue:
    """The design merged with the org's metadata (`client` None: the design alone, offline)."""
    design = yaml_docs.safe_load(path.read_text())
    org_modules = {m["api_name"]: m for m in (client.modules() if client else [])}
    modules: dict[str, TargetModule] = {}
    for name, spec in design["modules"].items():
        fields: dict[str, TargetField] = {}
        for fname, f in (spec.get("fields") or {}).items():
            fields[fname] = TargetField(
                api_name=fname,
                data_type=f["type"],
                length=f.get("length") or DEFAULT_LENGTHS.get(f["type"]),
                aliases=list(f.get("aliases") or []),
                values=list(f.get("values") or []),
                value_aliases=dict(f.get("value_aliases") or {}),
                lookup=f.get("lookup"),
                always=bool(f.get("always")),
                via=f.get("via"),
            )
        ext = spec.get("external_id")
        if ext and spec["kind"] in {"standard", "custom", "junction"}:
            fields[ext] = TargetField(ext, "text", 60, aliases=["id", "key"], external=True, always=True)
        elif ext and spec["kind"] in {"notes", "attachments"}:  # a marker in the title / file name, not a field
            fields[ext] = TargetField(ext, "text", None, aliases=["id"], external=True)
        module = TargetModule(
            api_name=name,
            kind=spec["kind"],
            entities=list(spec.get("entities") or []),
            external_id=ext,
            model=spec.get("model"),
            fields=fields,
            singular_label=spec.get("singular_label"),
            plural_label=spec.get("plural_label"),
            companion_of=spec.get("with"),
            helper_columns=list(spec.get("helper_columns") or []),
        )
        if name in org_modules and client is not None and module.accepts_custom_fields:
            module.in_org = True
            for f in client.fields(name):
                if f.get("read_only") and f.get("api_name") not in fields:
                    continue  # Zoho sets these itself (Created_Time, Modified_By...): never a target
                live = _org_field(f)
                planned = fields.get(live.api_name)
                if planned:  # keep the design's words, take the org's facts
                    live.aliases = planned.aliases
                    live.always = planned.always
                    live.external = live.external or planned.external
                    # values the design needs on an existing pick-list are added to it
                    live.values = live.values + [v for v in planned.values if v not in live.values]
                    live.via = planned.via
                    live.value_aliases = planned.value_aliases
                    live.lookup = live.lookup or planned.lookup
                fields[live.api_name] = live
        elif name in org_modules:
            module.in_org = True
        modules[name] = module
    return Catalogue(modules, list(design.get("records") or []), dict(design.get("value_lists") or {}),
                     dict(design.get("value_maps") or {}), list(design.get("sensitive_columns") or []))


def custom_module(api_name: str, label: str, kind: str, external_id: str, entity: str) -> TargetModule:
    """A module the design does not know: a clinic's custom object or a many-to-many junction."""
    singular = label[:25]
    plural = (label if label.endswith("s") else label + "s")[:25]
    fields = {
        # every custom module has a Name and an Owner; the model always fills the Name
        "Name": TargetField("Name", "text", 120, aliases=["name", "title"], always=True),
        "Owner": TargetField("Owner", "ownerlookup", lookup="Users", aliases=["owner", "coordinator", "owner_id"]),
        external_id: TargetField(external_id, "text", 60, aliases=["id", "key"], external=True, always=True),
    }
    return TargetModule(api_name, kind, [entity], external_id, f"zoho_{api_name.lower()}", fields,
                        singular_label=singular, plural_label=plural)
