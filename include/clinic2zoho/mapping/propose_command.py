"""`clinic2zoho propose`: profile the landed raw tables, read the org's modules and fields, and
write the proposed mapping (dbt_project/mapping/<format>.yml) plus its review page."""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from clinic2zoho import settings
from clinic2zoho.mapping import files
from clinic2zoho.mapping.catalogue import load_catalogue
from clinic2zoho.mapping.propose import Proposer, read_manifest
from clinic2zoho.mapping.review import write_review
from clinic2zoho.mapping.seeds import write_seeds
from clinic2zoho.mapping.zoho_access import add_zoho_arguments, client_from_args


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", dest="fmt", choices=files.FORMATS, required=True, help="source format landed in raw")
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default: the work folder's)")
    parser.add_argument("--dbt-project", type=Path, default=None, help="dbt project holding mapping/ and the models")
    parser.add_argument("--offline", action="store_true", help="do not read the org's metadata (design only)")
    add_zoho_arguments(parser)


def propose_mapping(fmt: str, warehouse: Path | None = None, dbt_dir: Path | None = None, client=None) -> tuple[Path, Path, dict]:
    """Write the proposal for `fmt`; returns (mapping file, review page, mapping)."""
    dbt_dir = dbt_dir or files.dbt_project_dir()
    con = duckdb.connect(str(warehouse or settings.warehouse_path()), read_only=True)
    try:
        proposer = Proposer(con, fmt, load_catalogue(client), read_manifest(con, fmt), dbt_dir)
        mapping = proposer.propose()
    finally:
        con.close()
    path = files.write_mapping(mapping, files.mapping_path(fmt, dbt_dir))
    write_seeds(dbt_dir)  # the value maps and extra columns dbt reads, from the mapping files
    review = write_review(mapping, settings.reports_dir() / f"mapping_review_{fmt}.html")
    return path, review, mapping


def run(args: argparse.Namespace) -> int:
    client = None if args.offline else client_from_args(args)
    path, review, mapping = propose_mapping(args.fmt, args.warehouse, args.dbt_project, client)
    fields = [f for e in mapping["entities"] for f in e.get("fields") or []]
    low = sum(1 for f in fields if f["confidence"] < 0.75)
    new = sum(1 for f in fields if f.get("new_field"))
    flagged = sum(1 for f in fields if f.get("disagreement"))
    print(f"proposed {len(fields)} fields ({new} new custom fields, {low} low confidence, {flagged} disagreeing with the models)")
    print(f"mapping: {path}\nreview:  {review}\nnext: review, then `clinic2zoho confirm --by NAME`")
    return 0
