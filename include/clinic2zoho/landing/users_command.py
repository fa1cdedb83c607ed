"""`clinic2zoho land-users FILE [--org LABEL] [--warehouse FILE]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import LandingError
from .users import land_users


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="users JSON: [{id, email, full_name, status}] or Zoho's {users: [...]}")
    parser.add_argument("--org", default="production", help="org label the users belong to (default: production)")
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default: the work folder's)")


def run(args: argparse.Namespace) -> int:
    try:
        count = land_users(args.file, org_label=args.org, warehouse=args.warehouse)
    except LandingError as exc:
        print(f"landing users failed: {exc}", file=sys.stderr)
        return 1
    print(f"{count} users landed in raw.zoho_users for org {args.org!r}")
    return 0
