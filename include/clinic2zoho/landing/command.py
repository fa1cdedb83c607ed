"""`clinic2zoho land --source DIR [--format F] [--warehouse FILE]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from .api import FORMATS, land_export
from .errors import LandingError
from .result import LandingResult


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True, type=Path, help="the export folder")
    parser.add_argument("--format", choices=FORMATS, default=None, help="default: detected from the folder")
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default: the work folder's)")
    parser.add_argument("--batch-id", default=None, help="default: a new time-stamped id")


def format_table(result: LandingResult) -> str:
    header = ("entity", "read", "landed", "unchanged", "rejected")
    rows = [(entity, *(str(c[k]) for k in header[1:])) for entity, c in sorted(result.by_entity().items())]
    totals = result.totals()
    rows.append(("TOTAL", *(str(totals[k]) for k in header[1:])))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r))
    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *map(line, rows)])


def run(args: argparse.Namespace) -> int:
    try:
        result = land_export(args.source, fmt=args.format, warehouse=args.warehouse, batch_id=args.batch_id)
    except LandingError as exc:
        print(f"landing failed: {exc}", file=sys.stderr)
        return 1
    except duckdb.Error as exc:  # e.g. the warehouse file is locked by another process
        print(f"landing failed: warehouse error: {exc}", file=sys.stderr)
        return 1
    print(f"batch {result.batch_id} ({result.format}) from {result.source}")
    print(format_table(result))
    if result.totals()["rejected"]:
        print("rejected rows are in raw.raw_rejects (file, row, field, reason)")
    return 0
