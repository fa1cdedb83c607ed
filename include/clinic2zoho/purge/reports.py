"""The reports of a work folder: those showing field values go, their counts stay."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

from clinic2zoho.purge.rules import COUNT_LABELS, REPORTS_KEPT, VALUE_KEYS


def counts_only(value: Any) -> Any:
    """Numbers and booleans, and the strings under the keys that name things (module, table,
    status...); every other string (a value, a message quoting one) and whatever lies under a
    value's key (expected, actual...) is left out."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in VALUE_KEYS:
                continue
            if isinstance(item, str):
                if key in COUNT_LABELS:
                    out[key] = item
            elif isinstance(item, (dict, list)):
                reduced = counts_only(item)
                if reduced not in ({}, []):
                    out[key] = reduced
            elif isinstance(item, (int, float, bool)):
                out[key] = item
        return out
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return len(value)  # a list of messages or names: how many
        return [r for r in (counts_only(v) for v in value) if r not in ({}, [])]
    return value if isinstance(value, (int, float, bool)) else None


def _json_counts(path: Path) -> Any:
    try:
        return counts_only(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def _diff_counts(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            statuses = Counter(row.get("status") or "" for row in csv.DictReader(fh))
    except (OSError, csv.Error):
        return None
    return {"fields_compared": sum(statuses.values()), "by_status": dict(sorted(statuses.items()))}


def plan_reports(folder: Path) -> tuple[list[Path], list[Path]]:
    """(to remove, to keep)."""
    if not folder.is_dir():
        return [], []
    files = sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink())
    keep = [p for p in files if p.parent == folder and any(p.match(pattern) for pattern in REPORTS_KEPT)]
    return [p for p in files if p not in keep], keep


def counts_of(removed: list[Path]) -> dict[str, Any]:
    """What the removed reports counted, by report."""
    counts: dict[str, Any] = {}
    for path in removed:
        if path.suffix == ".json":
            counts[path.name] = _json_counts(path)
        elif path.name == "sample_diff.csv":
            counts[path.name] = _diff_counts(path)
    return {k: v for k, v in counts.items() if v}
