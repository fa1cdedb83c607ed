"""The kind rule of a mapping file: a column whose values are clearly dates, e-mails or web
addresses (recorded by the proposal in the column's `profile.values`) never fills a Zoho field of
another kind, nor is a date an identifier. `confirm` refuses a file breaking it, naming the file,
entity, column, target and the evidence; the proposal itself never proposes such a choice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clinic2zoho.mapping.catalogue import Catalogue, TargetField, load_catalogue
from clinic2zoho.mapping.field_kinds import wrong_kind

RULE = "kind rule (a column's values must fit its field's kind)"


class WrongKind(ValueError):
    """A mapping file maps a column onto a field of another kind."""


def _target_field(choice: dict[str, Any], catalogue: Catalogue) -> TargetField | None:
    module, _, name = str(choice.get("target", "")).partition(".")
    known = catalogue.modules.get(module)
    if known and name in known.fields:
        return known.fields[name]
    if choice.get("data_type"):  # a new custom field: the type the file gives it
        return TargetField(name, str(choice["data_type"]), external=bool(choice.get("external_id")))
    return None


def kind_problems(mapping: dict[str, Any], catalogue: Catalogue | None = None) -> list[str]:
    """One line per column the kind rule refuses (entity, column, target and why)."""
    catalogue = catalogue or load_catalogue(None)
    out = []
    for ent in mapping.get("entities") or []:
        for choice in ent.get("fields") or []:
            if choice.get("target") in (None, "skip"):
                continue
            values = (choice.get("profile") or {}).get("values") or {}
            target = _target_field(choice, catalogue)
            if not values.get("kind") or target is None:
                continue
            why = wrong_kind(str(values["kind"]), float(values.get("share", 1.0)), target)
            if why:
                out.append(f"{ent.get('entity')}.{choice.get('column')} -> {choice['target']}: {why}")
    return out


def check_kinds(path: Path, mapping: dict[str, Any]) -> None:
    """Raise WrongKind naming the rule and every column breaking it."""
    problems = kind_problems(mapping)
    if problems:
        raise WrongKind(f"{path}: {RULE} refuses {len(problems)} choice(s): " + "; ".join(problems)
                        + ". Choose a field of the values' kind (or a new custom field, or skip), then confirm.")
