"""`clinic2zoho resolve-duplicates --merge DUPLICATE=SURVIVOR --distinct ID1,ID2 --by NAME`:
record a person's decisions on the Data Quality Report's duplicate patient pairs in the work
folder (decisions/patient_merges.csv, decisions/patient_distinct.csv), which the next run passes
to dbt. Without a decision to record it lists the pairs that need one and what was decided.
Prints record ids only."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clinic2zoho import settings


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--merge", action="append", default=[], metavar="DUPLICATE=SURVIVOR",
                        help="one person twice: DUPLICATE is left out of Zoho, its records move to SURVIVOR")
    parser.add_argument("--distinct", action="append", default=[], metavar="ID1,ID2",
                        help="two different people: both are loaded")
    parser.add_argument("--by", help="who decides (recorded with the time)")
    parser.add_argument("--work", type=Path, default=None,
                        help="the migration's work folder (default: CLINIC2ZOHO_HOME or ./work)")


def _split(values: list[str], sep: str, what: str, form: str) -> list[tuple[str, str]]:
    out = []
    for value in values:
        left, found, right = value.partition(sep)
        if not found:
            raise ValueError(f"{what} {value!r}: write it as {form}")
        out.append((left, right))
    return out


def run(args: argparse.Namespace) -> int:
    from clinic2zoho.quality import candidates, decisions

    home = settings.owner_only(args.work.resolve()) if args.work else settings.home()
    where = decisions.folder(home)
    if not args.merge and not args.distinct:
        return _list(home, where)
    try:
        merges = _split(args.merge, "=", "--merge", "DUPLICATE=SURVIVOR")
        apart = _split(args.distinct, ",", "--distinct", "ID1,ID2")
        recorded = decisions.record(where, merges=merges, distinct=apart, by=args.by or "")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for dup, survivor in merges:
        print(f"merge {dup.strip()} into {survivor.strip()}, decided by {args.by.strip()}")
    for a, b in apart:
        print(f"{a.strip()} and {b.strip()} are two different people, decided by {args.by.strip()}")
    print(f"recorded in {where / decisions.MERGES} ({len(recorded.merges)} merges) and "
          f"{where / decisions.DISTINCT} ({len(recorded.distinct)} pairs of different people)")
    warehouse = home / "warehouse.duckdb"
    if warehouse.is_file():
        left = [p for p in candidates.read(warehouse, needing_decision=True)
                if recorded.decision(p["patient_id_1"], p["patient_id_2"]) in (None, "contradictory")]
        print(f"{len(left)} pair(s) of the Data Quality Report still to decide")
    return 0


def _list(home: Path, where: Path) -> int:
    from clinic2zoho.quality import candidates, decisions

    warehouse = home / "warehouse.duckdb"
    pairs = candidates.read(warehouse) if warehouse.is_file() else []
    if not pairs:
        print(f"no duplicate pairs scored in {warehouse}: run the Data Quality Report first (clinic2zoho quality)")
        return 0
    recorded = decisions.read(where)
    print("probability  patient 1 (records)  patient 2 (records)  decision")
    for p in pairs:
        decision = recorded.decision(p["patient_id_1"], p["patient_id_2"])
        state = decision or ("TO DECIDE" if p["needs_decision"] else "undecided (below the threshold)")
        print(f"{p['match_probability']:.4f}       {p['patient_id_1']} ({p['linked_records_1']})  "
              f"{p['patient_id_2']} ({p['linked_records_2']})  {state}")
    return 0
