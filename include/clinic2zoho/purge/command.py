"""`clinic2zoho purge [--work DIR] [--yes] [--after-cutover] [--include-local-orgs] [--dry-run]`:
remove a work folder's patient data once the cutover is final, keeping the audit log and the ids
(clinic2zoho/purge/__init__.py says what goes and what stays)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from clinic2zoho import settings
from clinic2zoho.purge import reports as report_files
from clinic2zoho.purge.checks import PurgeRefused, check
from clinic2zoho.purge.duckdb_files import FileInUse, Rewrite, rewrite
from clinic2zoho.purge.rules import KNOWN, SEGMENT_KEEP, WAREHOUSE_KEEP

CONFIRM_WORD = "purge"
# The entries of a work folder this command removes or rewrites; every other one is named as kept.
HANDLED = frozenset({"warehouse.duckdb", "warehouse.duckdb.wal", "journal", "reports", "generated",
                     "warehouse.dbt_target", "zoho"})
PURGES_DDL = "CREATE SCHEMA IF NOT EXISTS ops; CREATE TABLE IF NOT EXISTS ops.purges (purged_at TIMESTAMPTZ, record JSON)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--work", type=Path, default=None, help="the work folder (default: CLINIC2ZOHO_HOME or ./work)")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--after-cutover", action="store_true",
                        help="the cutover is final: the before-images of the records the load updated go too, and "
                             "with them the rollback of those updates (created records stay deletable by id)")
    parser.add_argument("--include-local-orgs", action="store_true",
                        help="also remove the local Zoho orgs of a demo's work folder (zoho/), records and all")
    parser.add_argument("--dry-run", action="store_true", help="say what would be removed and kept; remove nothing")


@dataclass
class Plan:
    home: Path
    remove: list[Path] = field(default_factory=list)  # files and folders removed whole
    databases: list[tuple[Path, dict[str, tuple[str, ...]]]] = field(default_factory=list)  # rewritten
    reports_removed: list[Path] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)


def _export_inside(home: Path) -> Path | None:
    """The export migrate was given, when it lies in the work folder: the clinic's own files, maybe
    their only copy, so never removed here (the generated export is)."""
    try:
        source = json.loads((home / "migration.json").read_text())["source"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if source == "generated":
        return None
    path = Path(source).resolve()
    return path if path != home and home in path.parents and path.exists() else None


def make_plan(home: Path, include_local_orgs: bool) -> Plan:
    plan = Plan(home)
    warehouse, journal_root = home / "warehouse.duckdb", home / "journal"
    if warehouse.is_file():
        plan.databases.append((warehouse, WAREHOUSE_KEEP))
    if journal_root.is_dir():
        for run_dir in sorted(p for p in journal_root.iterdir() if p.is_dir()):
            for segment in sorted(run_dir.glob("*.duckdb")):
                if not segment.name.startswith("audit-"):
                    plan.databases.append((segment, SEGMENT_KEEP))
        plan.kept.append("journal/*/audit-*.duckdb (every call made to Zoho: never a payload) and run.json (plans)")
    plan.reports_removed, kept_reports = report_files.plan_reports(home / "reports")
    plan.kept += [_rel(p, home) for p in kept_reports]
    for name in ("generated", "warehouse.dbt_target"):
        if (home / name).exists():
            plan.remove.append(home / name)
    export = _export_inside(home)
    if export is not None:
        plan.kept.append(f"{_rel(export, home)} (the export migrate was given: the clinic's own files, removed only "
                         "by you, once archived)")
    if (home / "zoho").exists():
        if include_local_orgs:
            plan.remove.append(home / "zoho")
        else:
            plan.kept.append("zoho/ (the local Zoho orgs hold the migrated records: --include-local-orgs removes them)")
    for entry in sorted(home.iterdir()):
        holds_export = export is not None and (entry == export or entry in export.parents)  # named above
        if entry.name in HANDLED or entry.name.endswith(".purging") or holds_export:
            continue
        if entry.name in KNOWN:  # logs (ids only), Airflow's run history, the dbt parse cache, delta plans...
            plan.kept.append(entry.name + ("/" if entry.is_dir() else ""))
        else:
            plan.left_alone.append(entry.name)
    return plan


def _rel(path: Path, home: Path) -> str:
    try:
        return str(path.relative_to(home))
    except ValueError:
        return str(path)


def _confirm(home: Path) -> bool:
    if not sys.stdin.isatty():
        return False
    answer = input(f"Remove the patient data of {home}? Type {CONFIRM_WORD!r} to go on: ")
    return answer.strip() == CONFIRM_WORD


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _record(plan: Plan, rewrites: list[Rewrite], counts: dict[str, Any], restorable: dict[str, int]) -> dict:
    warehouse = next((r for r in rewrites if r.path.name == "warehouse.duckdb"), None)
    segments = [r for r in rewrites if r is not warehouse]
    return {
        "purged_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "removed": sorted(_rel(p, plan.home) for p in plan.remove + plan.reports_removed),
        "warehouse": {"kept": warehouse.kept, "emptied": {k: list(v) for k, v in warehouse.emptied.items()},
                      "dropped": len(warehouse.dropped)} if warehouse else None,
        "journal_segments": {"files": len(segments), "rows": sum(sum(r.kept.values()) for r in segments),
                             "emptied": sorted({f"{t}.{c}" for r in segments for t, cs in r.emptied.items()
                                                for c in cs})},
        "before_images_removed": restorable,
        "kept": plan.kept,
        "report_counts": counts,
    }


def _write_record(plan: Plan, record: dict) -> Path:
    reports = plan.home / "reports"
    reports.mkdir(exist_ok=True)
    path = reports / "purge.json"
    try:
        history = json.loads(path.read_text())["purges"]
    except (OSError, ValueError, KeyError):
        history = []
    path.write_text(json.dumps({"purges": history + [record]}, indent=1, default=str))
    warehouse = plan.home / "warehouse.duckdb"
    if warehouse.is_file():
        import duckdb

        con = duckdb.connect(str(warehouse))
        try:
            con.execute(PURGES_DDL)
            con.execute("INSERT INTO ops.purges VALUES (?, ?)", [record["purged_at"], json.dumps(record, default=str)])
        finally:
            con.close()
    return path


def run(args: argparse.Namespace) -> int:
    home = (args.work or Path(os.environ.get("CLINIC2ZOHO_HOME", "work"))).resolve()
    if not home.is_dir() or not any((home / n).exists() for n in ("warehouse.duckdb", "journal", "migration.json")):
        print(f"{home}: not a clinic2zoho work folder (no warehouse, journal or migration.json)", file=sys.stderr)
        return 2
    settings.owner_only(home)
    try:
        state = check(home / "journal", home / "warehouse.duckdb", args.after_cutover)
    except PurgeRefused as exc:
        print(f"purge refused: {exc}", file=sys.stderr)
        return 2
    plan = make_plan(home, args.include_local_orgs)
    _say_plan(plan, args.dry_run)
    if args.dry_run:
        return 0
    if not args.yes and not _confirm(home):
        print("nothing removed: confirm with --yes (or answer the question on a terminal)", file=sys.stderr)
        return 2
    counts = report_files.counts_of(plan.reports_removed)
    try:
        rewrites = [rewrite(path, keep) for path, keep in plan.databases]
    except FileInUse as exc:
        print(f"purge stopped: {exc}", file=sys.stderr)
        return 2
    record_path = _write_record(plan, _record(plan, rewrites, counts, state.restorable))
    for path in plan.reports_removed + plan.remove:
        _remove(path)
    _say_done(plan, rewrites, record_path, state.restorable)
    return 0


def _say_plan(plan: Plan, dry_run: bool) -> None:
    verb = "would remove" if dry_run else "removing"
    print(f"work folder {plan.home}: {verb}")
    for path in plan.remove + plan.reports_removed:
        print(f"  {_rel(path, plan.home)}")
    segments = [path for path, keep in plan.databases if keep is SEGMENT_KEEP]
    if any(keep is WAREHOUSE_KEEP for _, keep in plan.databases):
        print("  from warehouse.duckdb: every table and view but the journal and audit copies (ops) and the landing's"
              " counts (raw._batches, raw._file_loads, raw.raw_rejects), patient values emptied in those")
    if segments:
        print(f"  from the {len(segments)} journal segment(s): before-images, labels (note titles, file names) and error"
              " messages")
    print("keeping")
    for item in plan.kept:
        print(f"  {item}")
    for name in plan.left_alone:
        print(f"  {name} (not written by clinic2zoho: left alone, check it yourself)")


def _say_done(plan: Plan, rewrites: list[Rewrite], record: Path, restorable: dict[str, int]) -> None:
    for r in rewrites:
        if r.path.name == "warehouse.duckdb":
            print(f"warehouse: dropped {len(r.dropped)} tables and views; kept "
                  + ", ".join(f"{t} ({n} rows)" for t, n in r.kept.items()))
            for table, columns in r.emptied.items():
                print(f"  {table}: {', '.join(columns)} emptied")
    segments = [r for r in rewrites if r.path.name != "warehouse.duckdb"]
    if segments:
        print(f"journal: {len(segments)} segment(s), {sum(sum(r.kept.values()) for r in segments)} rows kept with their"
              " source keys and Zoho ids; before-images, labels and error messages emptied")
    if restorable:
        print(f"rollback can no longer restore the {sum(restorable.values())} updated record(s) of "
              f"{', '.join(sorted(restorable))}; records the runs created can still be deleted by id")
    print(f"counts of the removed reports and this purge's record: {_rel(record, plan.home)} and ops.purges")
    print("removed files are unlinked, not overwritten: the disk's free blocks are the disk encryption's to protect")
