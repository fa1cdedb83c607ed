"""`clinic2zoho quality`: write the Data Quality Report of what is landed and print its summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clinic2zoho.zoho.facts import ATTACHMENT_MAX_BYTES

MIB = 1024 * 1024


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warehouse", type=Path, default=None,
                        help="DuckDB warehouse file (default: CLINIC2ZOHO_WAREHOUSE or <home>/warehouse.duckdb)")
    parser.add_argument("--out", type=Path, default=None, help="report folder (default: <home>/reports)")
    parser.add_argument("--attachment-limit-mb", type=float, default=ATTACHMENT_MAX_BYTES / MIB,
                        help=f"largest attachment Zoho accepts, in MiB (default {ATTACHMENT_MAX_BYTES // MIB})")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="match probability from which a patient pair is listed as a duplicate (default 0.5)")
    parser.add_argument("--decision-threshold", type=float, default=None,
                        help="match probability from which a pair fails the dbt gate until it is decided "
                             "(clinic2zoho resolve-duplicates; default 0.99)")


def run(args: argparse.Namespace) -> int:
    from clinic2zoho.quality import QualityError, build_quality_report
    from clinic2zoho.quality.duplicates import DECISION_THRESHOLD

    try:
        report = build_quality_report(args.warehouse, args.out,
                                      attachment_limit_bytes=int(args.attachment_limit_mb * MIB),
                                      duplicate_threshold=args.threshold,
                                      decision_threshold=args.decision_threshold or DECISION_THRESHOLD)
    except QualityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    s = report["summary"]
    print(f"Data Quality Report ({', '.join(s['formats'])}): complexity grade {s['grade']}")
    for source in report["sources"]:
        c = source["complexity"]
        print(f"  {source['format']}: grade {c['grade']} - {c.get('summary', '')}")
    print(f"  records landed:                {s['records']:>10,}")
    print(f"  duplicate patient pairs:       {s['duplicate_pairs']:>10,}")
    print(f"    of them needing a decision:  {s['duplicate_pairs_to_decide']:>10,}"
          + ("  (clinic2zoho resolve-duplicates)" if s["duplicate_pairs_to_decide"] else ""))
    print(f"  providers without email:       {s['providers_missing_email']:>10,}")
    print(f"  invalid dates/emails/phones:   {s['invalid_values']:>10,}")
    print(f"  records pointing at unknowns:  {s['orphans']:>10,}")
    print(f"  documents over the limit:      {s['documents_over_limit']:>10,}")
    print(f"  notes over the limit:          {s['notes_over_limit']:>10,}")
    print(f"  rows rejected at landing:      {s['rejected_records']:>10,}")
    print(f"report: {report['paths']['html']}")
    print(f"        {report['paths']['json']}")
    return 0
