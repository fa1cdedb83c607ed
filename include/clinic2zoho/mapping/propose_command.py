"""`clinic2zoho propose`: profile the landed raw tables, read the org's modules and fields, and
write the proposed mapping (dbt_project/mapping/<format>.yml) plus its review page.

`--source DIR` starts from the export folder: an export in another layout than the generic one
(no manifest) first gets its source map (dbt_project/mapping/sources/<export>.yml, which file is
which clinic entity and which column which clinic column), then lands, then the mapping of its
format is proposed when there is none."""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from clinic2zoho import settings
from clinic2zoho.mapping import files, layout_mandatory
from clinic2zoho.mapping.catalogue import load_catalogue
from clinic2zoho.mapping.propose import LOW_CONFIDENCE
from clinic2zoho.mapping.propose import Proposer, read_manifest
from clinic2zoho.mapping.review import write_review
from clinic2zoho.mapping.seeds import write_seeds
from clinic2zoho.mapping.zoho_access import add_zoho_arguments, client_from_args


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", dest="fmt", choices=files.FORMATS, default=None,
                        help="source format landed in raw (with --source: detected)")
    parser.add_argument("--source", type=Path, default=None,
                        help="export folder: propose its source map when its layout needs one, then land it")
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
    target = files.mapping_path(fmt, dbt_dir)
    previous = files.read_mapping(target) if target.is_file() else None
    # layout-mandatory fields without a source: listed for a person (NEEDS A PERSON), never filled here
    entries = layout_mandatory.propose_entries(mapping["modules"], mapping["entities"], previous, client)
    if entries:
        mapping["layout_mandatory"] = entries
    path = files.write_mapping(mapping, target)
    write_seeds(dbt_dir)  # the value maps and extra columns dbt reads, from the mapping files
    from clinic2zoho.mapping.column_accounting import account

    with duckdb.connect(str(warehouse or settings.warehouse_path()), read_only=True) as con:
        accounting = account(con, dbt_dir, formats=(fmt,))  # every landed column, for the review page
    review = write_review(mapping, settings.reports_dir() / f"mapping_review_{fmt}.html", accounting)
    return path, review, mapping


def propose_source(source: Path, dbt_dir: Path | None = None) -> tuple[Path, Path, dict] | None:
    """The export's source map, proposed and written with its review page when the export needs
    one (a folder of CSV files without the generic manifest) and none is filed; None otherwise."""
    from clinic2zoho.landing.generic import has_manifest
    from clinic2zoho.landing.api import detect_format
    from clinic2zoho.mapping import source_map
    from clinic2zoho.mapping.review import write_source_map_review
    if has_manifest(source) or detect_format(source) != "generic" or source_map.find_for(source, dbt_dir):
        return None
    from clinic2zoho.mapping.source_propose import propose_source_map

    doc = propose_source_map(source, source_map.export_name(source))
    path = source_map.write_source_map(doc, source_map.source_map_path(doc["export"], dbt_dir))
    review = write_source_map_review(doc, path, settings.reports_dir() / f"source_map_review_{doc['export']}.html")
    return path, review, doc


def run(args: argparse.Namespace) -> int:
    if args.source is None and args.fmt is None:
        raise SystemExit("propose: give --source DIR (an export folder) or --format F (a landed export)")
    fmt = args.fmt
    if args.source is not None:
        from clinic2zoho.landing import detect_format, land_export

        proposed = propose_source(args.source, args.dbt_project)
        if proposed:
            path, review, doc = proposed
            entities = doc["entities"]
            low = sum(1 for e in entities.values() for c in e.get("columns") or []
                      if float(c.get("confidence", 1)) < LOW_CONFIDENCE)
            print(f"source map: {len(entities)} files as clinic entities, {low} column choices need review "
                  f"(time zone {doc.get('timezone')})\nsource map: {path}\nreview:     {review}")
        fmt = fmt or detect_format(args.source)
        land_export(args.source, fmt, warehouse=args.warehouse)
        if files.mapping_path(fmt, args.dbt_project).is_file():
            print(f"the {fmt} mapping exists ({files.mapping_path(fmt, args.dbt_project)}); "
                  "next: review, then `clinic2zoho confirm --by NAME`")
            return 0
    client = None if args.offline else client_from_args(args)
    path, review, mapping = propose_mapping(fmt, args.warehouse, args.dbt_project, client)
    fields = [f for e in mapping["entities"] for f in e.get("fields") or []]
    low = sum(1 for f in fields if f["confidence"] < 0.75)
    new = sum(1 for f in fields if f.get("new_field"))
    flagged = sum(1 for f in fields if f.get("disagreement"))
    print(f"proposed {len(fields)} fields ({new} new custom fields, {low} low confidence, {flagged} disagreeing with the models)")
    for item in layout_mandatory.needing_a_person([mapping]):
        print(f"{layout_mandatory.NEEDS_A_PERSON}: {item} is mandatory in the org's layout and the export has no "
              "source for it: supply its value under layout_mandatory (value, confirmed_by, confirmed_at)")
    print(f"mapping: {path}\nreview:  {review}\nnext: review, then `clinic2zoho confirm --by NAME`")
    return 0
