"""Where the mapping lives and how it is read and written: `dbt_project/mapping/<format>.yml`
(readable YAML, one per source format) and the confirmation beside it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from clinic2zoho import settings, yaml_docs
from clinic2zoho.formats import FORMATS  # noqa: F401  (files.FORMATS: the commands' --format choices)

CONFIRMATION_FILE = "confirmation.yml"

_HEADER = """\
# Field mapping for the {fmt} export, proposed by `clinic2zoho propose` ({proposed_at}).
# Review it (the review page lists low-confidence choices first), edit `target` where it is
# wrong (Module.Field, or `skip`), then record your decision: `clinic2zoho confirm --by NAME`.
# This file drives the Zoho schema (prepare-schema), the value-map seeds and the extra columns of
# the zoho_* models. Any edit after confirmation blocks loading until it is confirmed again.
"""


def dbt_project_dir() -> Path:
    """The dbt project (`CLINIC2ZOHO_DBT_PROJECT` overrides, e.g. a test's copy)."""
    override = os.environ.get("CLINIC2ZOHO_DBT_PROJECT")
    return Path(override).resolve() if override else settings.DBT_PROJECT_DIR


def mapping_dir(dbt_dir: Path | None = None) -> Path:
    return (dbt_dir or dbt_project_dir()) / "mapping"


def mapping_path(fmt: str, dbt_dir: Path | None = None) -> Path:
    return mapping_dir(dbt_dir) / f"{fmt}.yml"


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='|' if "\n" in value else None)


_Dumper.add_representer(str, _str)


def write_mapping(mapping: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.dump(mapping, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    path.write_text(_HEADER.format(fmt=mapping["format"], proposed_at=mapping["proposed_at"]) + body)
    return path


def read_mapping(path: Path) -> dict[str, Any]:
    try:
        doc = yaml_docs.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or "entities" not in doc or "format" not in doc:
        raise ValueError(f"{path}: not a mapping file (needs `format` and `entities`)")
    for i, ent in enumerate(doc["entities"]):
        for j, choice in enumerate(ent.get("fields") or []):
            target = choice.get("target")
            if target != "skip" and (not isinstance(target, str) or "." not in target):
                raise ValueError(f"{path}: entities[{i}] ({ent.get('entity')}) fields[{j}] "
                                 f"({choice.get('column')}): target must be Module.Field or skip, got {target!r}")
    return doc


def mapping_files(dbt_dir: Path | None = None) -> list[Path]:
    folder = mapping_dir(dbt_dir)
    return sorted(p for p in folder.glob("*.yml") if p.name != CONFIRMATION_FILE) if folder.is_dir() else []


def read_all(dbt_dir: Path | None = None, formats: list[str] | None = None) -> list[dict[str, Any]]:
    paths = mapping_files(dbt_dir)
    if formats:
        paths = [p for p in paths if p.stem in formats]
    return [read_mapping(p) for p in paths]
