"""How right a proposed source map (docs/source_map.md) is, scored against a vendor layout's ground
truth (clinic2zoho.generator.layouts, `truth.json`): the one scorer of source-map accuracy, used by
bench/propose.py and bench/any_export.py.

- A file is right when the map assigns it to the truth's entity (its key is scored apart).
- A column is right at the first choice when its clinic column is the truth's (a vendor extra:
  null), its parse rule and format are the truth's (the format only where the rule has one), and
  its value map, applied after the parse rule as staging applies it, turns every vendor value the
  truth lists into the truth's clinic value (with `seen`, the vendor values the export holds: a
  layout's value map may name codes a file never writes, e.g. appointment outcomes in the
  treatments file, and no proposal can know those). An extra counts right when it is mapped to null,
  whatever parse the proposal guessed for it. A column of a file assigned to another entity, or
  absent from the map, is a miss.

`truth_column(file_truth, header)` is the truth's answer written as a source-map column entry,
so a bench can stand in for the person correcting a choice."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinic2zoho.mapping.source_map import FORMATS

__all__ = ["ColumnScore", "FileScore", "SourceAccuracy", "boolean_text", "score_source_map", "truth_column",
           "vendor_values"]

# The vendor text the `boolean` parse rule reads (dbt macro mapped_parse), lower-cased.
_TRUE = {"y", "yes", "1", "t", "true", "j", "ja", "si", "sí", "x"}
_FALSE = {"n", "no", "0", "f", "false", "nein"}


def boolean_text(text: str) -> str:
    """`text` as the boolean parse rule leaves it: 'true', 'false', or unchanged."""
    low = text.strip().lower()
    return "true" if low in _TRUE else "false" if low in _FALSE else text


def _read_back(text: str, parse: str, values: dict[str, str]) -> str:
    """A vendor value as staging reads it through a column's rule and value map."""
    parsed = boolean_text(text) if parse == "boolean" else text
    return values.get(parsed.strip(), parsed)


@dataclass(frozen=True)
class FileScore:
    file: str
    entity: str  # the truth's
    proposed: str | None  # the entity the map assigns it to (None: unassigned)
    key: str | None  # the truth's key header
    proposed_key: str | None
    confidence: float  # the assignment's confidence (0 when unassigned)

    @property
    def right(self) -> bool:
        return self.proposed == self.entity

    @property
    def key_right(self) -> bool:
        return self.right and self.proposed_key == self.key


@dataclass(frozen=True)
class ColumnScore:
    file: str
    entity: str
    header: str
    truth: str  # the truth's answer, described
    proposed: str  # the first choice, described ("<absent>" when the map does not list it)
    confidence: float  # the choice's confidence (0 when absent)
    miss: str | None = None  # why it is wrong; None when right

    @property
    def right(self) -> bool:
        return self.miss is None


@dataclass
class SourceAccuracy:
    files: list[FileScore] = field(default_factory=list)
    columns: list[ColumnScore] = field(default_factory=list)

    @property
    def files_right(self) -> int:
        return sum(f.right for f in self.files)

    @property
    def keys_right(self) -> int:
        return sum(f.key_right for f in self.files)

    @property
    def columns_right(self) -> int:
        return sum(c.right for c in self.columns)

    @property
    def column_share(self) -> float:
        return self.columns_right / len(self.columns) if self.columns else 0.0

    def misses(self) -> list[ColumnScore]:
        return [c for c in self.columns if not c.right]


def _describe(column: Any, parse: str, fmt: str | None, values: dict[str, str] | None) -> str:
    target = "null" if column is None else "+".join(column) if isinstance(column, list) else str(column)
    text = target
    if parse != "text":
        text += f" ({parse}{' ' + fmt if fmt else ''})"
    if values:
        text += " {" + ", ".join(f"{k}->{v}" for k, v in list(values.items())[:4]) + (
            ", ..." if len(values) > 4 else "") + "}"
    return text


def _truth_rule(file_truth: dict[str, Any], header: str) -> tuple[str, str | None]:
    rule = file_truth.get("parse", {}).get(header) or {}
    parse = rule.get("parse") or "text"
    return parse, rule.get("format") if parse in FORMATS else None


def truth_column(file_truth: dict[str, Any], header: str) -> dict[str, Any]:
    """The truth's answer for one header as a source-map column entry. The truth keys a value map
    by the vendor's text; staging applies the map after the parse rule, so under a boolean rule
    the keys are the parsed text (`Y` -> `true`) and entries the rule already gives are left out."""
    column = file_truth["columns"][header]
    entry: dict[str, Any] = {"source": header, "column": column}
    parse, fmt = _truth_rule(file_truth, header)
    if parse != "text":
        entry["parse"] = parse
    if fmt:
        entry["format"] = fmt
    values = dict(file_truth.get("values", {}).get(header) or {})
    if parse == "boolean":
        values = {boolean_text(k): v for k, v in values.items() if boolean_text(k) != v}
    if values:
        entry["values"] = values
    return entry


def vendor_values(export: Path, truth: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """(file, header) -> the distinct values (trimmed) the export's file holds, for every header
    the truth gives a value map, read with the truth's delimiter and encoding."""
    out: dict[tuple[str, str], set[str]] = {}
    for file_truth in truth["files"]:
        headers = [h for h in file_truth["columns"] if file_truth.get("values", {}).get(h)]
        if not headers:
            continue
        with open(Path(export) / file_truth["file"], encoding=file_truth.get("encoding", "utf-8"), newline="") as fh:
            reader = csv.reader(fh, delimiter=file_truth.get("delimiter", ","))
            index = {h.lstrip("\ufeff"): i for i, h in enumerate(next(reader, []))}
            found = {h: set() for h in headers}
            for row in reader:
                for h in headers:
                    if index.get(h) is not None and index[h] < len(row):
                        found[h].add(row[index[h]].strip())
        out.update({(file_truth["file"], h): v for h, v in found.items()})
    return out


def _score_column(file_truth: dict[str, Any], header: str, proposed: dict[str, Any] | None,
                  same_entity: bool, seen: set[str] | None) -> ColumnScore:
    want = file_truth["columns"][header]
    parse, fmt = _truth_rule(file_truth, header)
    truth_values = {str(k): str(v) for k, v in (file_truth.get("values", {}).get(header) or {}).items()
                    if seen is None or str(k) in seen}
    described = _describe(want, parse, fmt, truth_values)
    base = {"file": file_truth["file"], "entity": file_truth["entity"], "header": header, "truth": described}
    if proposed is None:
        return ColumnScore(**base, proposed="<absent>", confidence=0.0, miss="not in the map")
    got = proposed.get("column")
    got_parse = proposed.get("parse") or "text"
    got_fmt = proposed.get("format") if got_parse in FORMATS else None
    got_values = {str(k): "" if v is None else str(v) for k, v in (proposed.get("values") or {}).items()}
    score = {**base, "proposed": _describe(got, got_parse, got_fmt, got_values),
             "confidence": float(proposed.get("confidence", 0.0))}
    if not same_entity:
        return ColumnScore(**score, miss="file assigned to another entity")
    if want is None:
        return ColumnScore(**score, miss=None if got is None else "an extra column mapped to a clinic column")
    if got != want:
        return ColumnScore(**score, miss="another clinic column" if got is not None else "left unmapped")
    if got_parse != parse:
        return ColumnScore(**score, miss="another parse rule")
    if got_fmt != fmt:
        return ColumnScore(**score, miss="another format")
    wrong = sorted(v for v, clinic in truth_values.items() if _read_back(v, got_parse, got_values) != clinic)
    if wrong:
        return ColumnScore(**score, miss=f"value map misreads {len(wrong)} of {len(truth_values)} vendor values")
    return ColumnScore(**score)


def score_source_map(doc: dict[str, Any], truth: dict[str, Any],
                     seen: dict[tuple[str, str], set[str]] | None = None) -> SourceAccuracy:
    """Score the proposed source map `doc` against the layout truth `truth` (truth.json's content):
    every file of the truth, every header of every file. `seen` (vendor_values) limits the value
    maps scored to the vendor values the export holds."""
    by_file: dict[str, tuple[str, dict[str, Any]]] = {
        spec["file"]: (entity, spec) for entity, spec in (doc.get("entities") or {}).items()}
    out = SourceAccuracy()
    for file_truth in truth["files"]:
        entity, spec = by_file.get(file_truth["file"], (None, {}))
        out.files.append(FileScore(file_truth["file"], file_truth["entity"], entity, file_truth.get("key"),
                                   spec.get("key"), float(spec.get("confidence", 0.0)) if entity else 0.0))
        listed = {c.get("source"): c for c in spec.get("columns") or []}
        for header in file_truth["columns"]:
            out.columns.append(_score_column(file_truth, header, listed.get(header),
                                             entity == file_truth["entity"],
                                             None if seen is None else seen.get((file_truth["file"], header), set())))
    return out
