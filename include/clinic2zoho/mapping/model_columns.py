"""What the hand-written dbt models already map: the columns of each `zoho_<module>` model (from
its YAML), and a light column lineage read from the SQL (`expr as alias` along `ref()` edges from
the entity's staging model to the Zoho model). The proposal records which model maps a field and
flags where it disagrees with the model."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import yaml

from clinic2zoho import yaml_docs

_REF = re.compile(r"ref\(\s*['\"]([A-Za-z0-9_]+)['\"]\s*\)")
_AS = re.compile(r"(?is)([^,()]*(?:\([^()]*\)[^,()]*)*)\s+as\s+\"?([A-Za-z_][A-Za-z0-9_]*)\"?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _sql_files(dbt_dir: Path) -> dict[str, Path]:
    return {p.stem: p for p in (dbt_dir / "models").rglob("*.sql")} if (dbt_dir / "models").is_dir() else {}


def zoho_model_columns(dbt_dir: Path) -> dict[str, dict[str, Any]]:
    """{model: {"columns": [...], "sql": text, "path": relative path}} for every zoho_* model."""
    out: dict[str, dict[str, Any]] = {}
    models_dir = dbt_dir / "models"
    if not models_dir.is_dir():
        return out
    declared: dict[str, list[str]] = {}
    for yml in models_dir.rglob("*.yml"):
        try:
            doc = yaml_docs.safe_load(yml.read_text()) or {}
        except yaml.YAMLError:
            continue
        for model in doc.get("models") or []:
            if isinstance(model, dict) and str(model.get("name", "")).startswith("zoho_"):
                declared[model["name"]] = [c["name"] for c in model.get("columns") or [] if isinstance(c, dict)]
    for name, path in _sql_files(dbt_dir).items():
        if name.startswith("zoho_"):
            out[name] = {"columns": declared.get(name, []), "sql": path.read_text(),
                         "path": str(path.relative_to(dbt_dir.parent)) if dbt_dir.parent in path.parents else str(path)}
    return out


@functools.lru_cache(maxsize=512)
def _aliases(sql: str) -> tuple[tuple[frozenset[str], str], ...]:
    """(identifiers of the expression, alias) of each `expr as alias` in a model's SQL; cached by
    the text itself (a proposal traces every carried column through the same models)."""
    sql = re.sub(r"--[^\n]*", "", re.sub(r"\{#.*?#\}", "", sql, flags=re.S))
    return tuple((frozenset(i.lower() for i in _IDENT.findall(expr)), alias) for expr, alias in _AS.findall(sql))


@functools.lru_cache(maxsize=512)
def _refs(sql: str) -> frozenset[str]:
    return frozenset(_REF.findall(sql))


def model_texts(dbt_dir: Path) -> dict[str, str]:
    """{model: its SQL} for every model of the project."""
    return {n: p.read_text() for n, p in _sql_files(dbt_dir).items()}


def lineage(dbt_dir: Path, fmt: str, entity: str, column: str, model: str,
            texts: dict[str, str] | None = None) -> set[str]:
    """Columns of `model` computed from `column` of the entity's staging model, followed along
    `ref()` edges (staging → intermediate → zoho). Empty when the chain is not found. `texts`:
    the project's models as model_texts read them (read here when not given)."""
    texts = model_texts(dbt_dir) if texts is None else texts
    stg = f"stg_{fmt}__{entity}"
    if stg not in texts or model not in texts:
        return set()
    names = {column.lower()} | {a.lower() for ids, a in _aliases(texts[stg]) if column.lower() in ids}
    frontier, seen = {stg}, {stg}
    for _ in range(4):  # staging -> intermediate (a few layers) -> zoho
        nxt = {n for n, t in texts.items() if n not in seen and _refs(t) & frontier}
        for n in nxt:
            names |= {a.lower() for ids, a in _aliases(texts[n]) if ids & names}
        if model in nxt:
            return {a for ids, a in _aliases(texts[model]) if ids & names}
        seen |= nxt
        frontier = nxt
        if not frontier:
            break
    return set()


_CARRIED_KINDS = {"standard", "custom", "junction"}
_REFERENCE_TYPES = {"lookup", "ownerlookup", "multimodulelookup"}


def annotate(mapping: dict[str, Any], models: dict[str, dict[str, Any]], dbt_dir: Path | None = None) -> None:
    """Record on each field choice which model maps it (`mapped_by`), or that the extra-columns
    macro carries it into the model (`carried_by: clinic_extra_columns`), and flag where the
    model's SQL seems to map the source column elsewhere (`disagreement`). The macro carries plain
    values only: a reference (lookup, owner, a provider's email) or a field of a module without
    custom fields (notes, attachments) that the model does not map is skipped, the proposed
    target kept in `unmapped_target`, so nothing reaches the file that the model cannot hold."""
    modules = {m["api_name"]: m for m in mapping.get("modules", [])}
    texts = model_texts(dbt_dir) if dbt_dir is not None else {}
    for ent in mapping.get("entities", []):
        for choice in ent.get("fields") or []:
            module = choice.get("module")
            model = (modules.get(module) or {}).get("model")
            if not module or not model or model not in models or choice.get("target") == "skip":
                continue
            columns = {c.lower(): c for c in models[model]["columns"]}
            field = choice.get("via") or choice["field"]
            # a column the YAML declares but the SQL never names is one the extra-columns macro adds
            if field.lower() in columns and field.lower() in models[model]["sql"].lower():
                choice["mapped_by"] = model
                continue
            # a key held as text (a visit id) is carried as it is; a lookup, or a provider's key
            # proposed as an email field, needs the model's resolution
            reference = choice.get("data_type") in _REFERENCE_TYPES or bool(choice.get("lookup")) or (
                choice.get("data_type") == "email" and any("(a reference)" in r for r in choice.get("reasons") or []))
            if reference or modules[module].get("kind") not in _CARRIED_KINDS:
                why = ("a reference needs the model's SQL and meta (lookups, owner resolution)" if reference
                       else f"{module} takes no custom fields")
                choice["unmapped_target"] = choice["target"]
                choice["target"] = "skip"
                choice["reasons"] = [*choice.get("reasons", []),
                                     f"skipped: {model} does not map it and {why}; map it in {model}.sql to carry it"]
                continue
            choice["carried_by"] = "clinic_extra_columns"  # the macro adds the column to the model
            if dbt_dir is not None:
                mapped = lineage(dbt_dir, mapping["format"], ent["entity"], choice["column"], model, texts)
                mapped = {m for m in mapped if m.lower() in columns} if columns else mapped
                # flag only an unambiguous trace: the text lineage over-reaches through shared names
                if len(mapped) == 1:
                    choice["disagreement"] = (f"{model} seems to map {choice['column']} to {next(iter(mapped))} already "
                                              f"(traced in its SQL); {field} is carried as an extra column: check")
