"""`clinic2zoho sign-off --run RUN --by NAME`: record that a person reviewed the sample run's
diff and signs it off (or refuses it, `--refuse REASON`); the cutover requires it
(clinic2zoho.orchestration.signoff)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clinic2zoho import settings


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", required=True, help="the sample run whose diff was reviewed (its run id)")
    parser.add_argument("--by", required=True, help="who signs off (recorded with the time and the hashes)")
    parser.add_argument("--work", type=Path, default=None,
                        help="the migration's work folder (default: CLINIC2ZOHO_HOME or ./work)")
    parser.add_argument("--refuse", metavar="REASON", default=None,
                        help="refuse the sample instead, saying why: the cutover stays stopped")
    parser.add_argument("--accept-mismatches", action="store_true",
                        help="sign off a diff that has mismatches, accepting them")
    parser.add_argument("--dbt-project", type=Path, default=None, help="dbt project holding mapping/")


def run(args: argparse.Namespace) -> int:
    from clinic2zoho.orchestration.signoff import SignOffError, sign_off, signoff_path

    home = settings.owner_only(args.work.resolve()) if args.work else settings.home()
    try:
        record = sign_off(home, args.run, args.by, dbt_dir=args.dbt_project, refuse=args.refuse,
                          accept_mismatches=args.accept_mismatches)
    except SignOffError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    verb = "signed off" if record.signed_off else f"refused ({record.reason})"
    print(f"sample run {record.run} {verb} by {record.by} at {record.at}: diff {record.diff} (sha256 "
          f"{record.diff_sha256[:12]}, {record.fields} fields, {record.mismatches} mismatch(es)), mapping hash "
          f"{record.mapping_hash[:12]}")
    print(f"recorded in {signoff_path(home, record.run)}")
    return 0
