"""Confirmation of the mapping on the record, and the gate every Zoho-writing task calls.

The confirmation lives beside the mapping, in `dbt_project/mapping/confirmation.yml`: it is part
of the project (reviewed and versioned with the mapping it confirms) and survives between runs and
`make clean`. It records who, when, one hash over everything that decides what reaches Zoho (the
mapping files, the dbt seeds with the value maps, the dbt models, macros and project file) and the
hash of each of those files, so the gate can say which files changed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml

from clinic2zoho import yaml_docs
from clinic2zoho.mapping import files, kind_check, seeds
from clinic2zoho.mapping.source_map import read_source_map, source_map_files

RECONFIRM = "clinic2zoho confirm --by NAME"


class MappingNotConfirmed(RuntimeError):
    """Raised by the gate: no confirmation, or the mapping changed since it was confirmed."""


@dataclass(frozen=True)
class Confirmation:
    confirmed_by: str
    confirmed_at: str
    hash: str
    files: dict[str, str]


def tracked_files(dbt_dir: Path) -> list[Path]:
    """Everything the confirmation covers, sorted: mapping files and source maps, seeds, models,
    macros, tests."""
    found: list[Path] = list(files.mapping_files(dbt_dir))
    found += list(source_map_files(dbt_dir))  # the exports' source maps (docs/source_map.md)
    for folder, patterns in (("seeds", ("*.csv", "*.yml")), ("models", ("*.sql", "*.yml")),
                             ("macros", ("*.sql", "*.yml")), ("tests", ("*.sql", "*.yml"))):
        base = dbt_dir / folder
        if base.is_dir():
            for pattern in patterns:
                found += [p for p in base.rglob(pattern) if "target" not in p.parts]
    if (dbt_dir / "dbt_project.yml").is_file():
        found.append(dbt_dir / "dbt_project.yml")
    return sorted(set(found))


def file_hashes(dbt_dir: Path) -> dict[str, str]:
    return {p.relative_to(dbt_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in tracked_files(dbt_dir)}


def combined_hash(hashes: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(hashes):
        digest.update(f"{name}\0{hashes[name]}\n".encode())
    return digest.hexdigest()


def confirmation_path(dbt_dir: Path) -> Path:
    return files.mapping_dir(dbt_dir) / files.CONFIRMATION_FILE


def confirm(by: str, dbt_dir: Path | None = None, now: datetime | None = None) -> Confirmation:
    """Record that `by` confirmed the mapping as it is now."""
    dbt_dir = dbt_dir or files.dbt_project_dir()
    if not by.strip():
        raise ValueError("say who confirms: --by NAME")
    mappings = files.mapping_files(dbt_dir)
    if not mappings:
        raise MappingNotConfirmed(f"no mapping file in {files.mapping_dir(dbt_dir)}: run `clinic2zoho propose` first")
    for path in mappings:  # refuse to confirm a file that cannot be read, or maps values onto another kind
        kind_check.check_kinds(path, files.read_mapping(path))
    for path in source_map_files(dbt_dir):
        read_source_map(path)
    # the seeds dbt reads (value maps, pick-lists, extra columns) are written from the files
    # first, so the hash covers what the models will read
    seeds.write_seeds(dbt_dir)
    hashes = file_hashes(dbt_dir)
    record = Confirmation(by.strip(), (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
                          combined_hash(hashes), hashes)
    body = {"confirmed_by": record.confirmed_by, "confirmed_at": record.confirmed_at, "hash": record.hash,
            "files": record.files}
    path = confirmation_path(dbt_dir)
    path.write_text("# Written by `clinic2zoho confirm`; loading refuses to start when these hashes no longer match.\n"
                    + yaml.safe_dump(body, sort_keys=False))
    return record


def read_confirmation(dbt_dir: Path) -> Confirmation | None:
    path = confirmation_path(dbt_dir)
    if not path.is_file():
        return None
    doc = yaml_docs.safe_load(path.read_text()) or {}
    try:
        return Confirmation(str(doc["confirmed_by"]), str(doc["confirmed_at"]), str(doc["hash"]), dict(doc["files"]))
    except (KeyError, TypeError) as exc:
        raise MappingNotConfirmed(f"{path}: unreadable confirmation ({exc}); run `{RECONFIRM}`") from exc


def changes(confirmed: dict[str, str], current: dict[str, str]) -> dict[str, list[str]]:
    return {
        "changed": sorted(f for f in current if f in confirmed and confirmed[f] != current[f]),
        "added": sorted(f for f in current if f not in confirmed),
        "removed": sorted(f for f in confirmed if f not in current),
    }


def require_confirmed(dbt_dir: Path | None = None, task: str = "this task") -> Confirmation:
    """The gate: returns the confirmation when the current hash equals the confirmed one, else
    raises naming what changed and how to reconfirm. Rollback does not call it (it works from a
    run's journal, not from the current mapping)."""
    dbt_dir = dbt_dir or files.dbt_project_dir()
    record = read_confirmation(dbt_dir)
    if record is None:
        raise MappingNotConfirmed(
            f"{task} writes to Zoho, but the mapping was never confirmed ({confirmation_path(dbt_dir)} missing). "
            f"Review dbt_project/mapping/*.yml and the review page, then run `{RECONFIRM}`.")
    current = file_hashes(dbt_dir)
    if combined_hash(current) == record.hash:
        return record
    diff = changes(record.files, current)
    parts = [f"{kind}: {', '.join(names)}" for kind, names in diff.items() if names]
    raise MappingNotConfirmed(
        f"{task} writes to Zoho, but the mapping changed since {record.confirmed_by} confirmed it at "
        f"{record.confirmed_at} ({'; '.join(parts) or 'hash differs'}). Review the changes, then run `{RECONFIRM}`.")
