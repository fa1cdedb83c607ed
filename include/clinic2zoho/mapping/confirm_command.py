"""`clinic2zoho confirm --by NAME`: record that a person confirmed the mapping as it is now."""

from __future__ import annotations

import argparse
from pathlib import Path

from clinic2zoho.mapping import confirmation, files, layout_mandatory


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", help="who confirms (recorded with the time and the hash)")
    parser.add_argument("--dbt-project", type=Path, default=None, help="dbt project holding mapping/")
    parser.add_argument("--check", action="store_true", help="only say whether the current mapping is confirmed")
    parser.add_argument("--set", dest="rules", action="append", default=[], metavar="MODULE.FIELD=VALUE",
                        help="your value for a layout-mandatory field the proposal lists as NEEDS A PERSON "
                             "(e.g. Leads.Company='Individual (patient)'); recorded with --by and the time")


def run(args: argparse.Namespace) -> int:
    dbt_dir = args.dbt_project or files.dbt_project_dir()
    if args.check:
        try:
            record = confirmation.require_confirmed(dbt_dir, task="loading")
        except confirmation.MappingNotConfirmed as exc:
            print(exc)
            return 1
        print(f"confirmed by {record.confirmed_by} at {record.confirmed_at} (hash {record.hash[:12]})")
        return 0
    if not args.by:
        print("say who confirms: --by NAME")
        return 2
    rules = dict(rule.split("=", 1) for rule in args.rules if "=" in rule)
    if len(rules) != len(args.rules):
        print("--set takes MODULE.FIELD=VALUE")
        return 2
    try:
        for item in layout_mandatory.supply(dbt_dir, rules, args.by) if rules else []:
            print(f"layout-mandatory {item}: {args.by}'s value recorded")
        record = confirmation.confirm(args.by, dbt_dir)
    except ValueError as exc:  # an unreadable file, or one the kind rule refuses: say which and why
        print(f"not confirmed: {exc}")
        return 1
    print(f"confirmed by {record.confirmed_by} at {record.confirmed_at}: {len(record.files)} files, hash {record.hash[:12]}")
    print(f"recorded in {confirmation.confirmation_path(dbt_dir)}")
    for item in layout_mandatory.needing_a_person(files.read_all(dbt_dir)):  # the load's layout gate stops on these
        print(f"{layout_mandatory.NEEDS_A_PERSON}: {item} has no confirmed rule under layout_mandatory (value, "
              "confirmed_by, confirmed_at): loading will stop until it has one")
    return 0
