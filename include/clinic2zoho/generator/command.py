"""`clinic2zoho generate`: write a generated generic clinic export and print what it holds."""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from clinic2zoho import settings


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--patients", type=int, default=1000, help="number of patients (default 1000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed; the same seed gives the same files")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: <CLINIC2ZOHO_HOME>/generated)")
    parser.add_argument("--no-files", action="store_true", help="list documents without writing their files")
    parser.add_argument("--clean", action="store_true",
                        help="leave out malformed rows, invalid values and orphans")
    parser.add_argument("--unresolved-providers", type=int, default=0, metavar="N",
                        help="leave N record-owning providers without any email (breaks the owner gate)")
    parser.add_argument("--encoding", default="utf-8", help="utf-8 (default), utf-8-sig or cp1252")
    from clinic2zoho.generator.layouts import LAYOUTS

    parser.add_argument("--layout", choices=[*LAYOUTS, "all"], default=None,
                        help="also write the export in this vendor layout (or all of them) to "
                             "<out>/layouts/NAME/NAME, with its ground truth in <out>/layouts/NAME/truth.json")


def run(args: argparse.Namespace) -> int:
    from clinic2zoho.generator import generate_export

    out = args.out if args.out is not None else settings.home() / "generated"
    started = time.perf_counter()
    result = generate_export(out, args.patients, seed=args.seed, with_files=not args.no_files,
                             defects=not args.clean, unresolved_providers=args.unresolved_providers,
                             encoding=args.encoding)
    seconds = time.perf_counter() - started
    width = max(len(e) for e in result.counts)
    print(f"generated export: {result.export_dir}")
    for entity, count in result.counts.items():
        print(f"  {entity:<{width}}  {count:>12,}")
    print(f"  {'total rows':<{width}}  {result.total_rows:>12,}")
    c = result.cases
    print(f"injected: {len(c.duplicate_pairs)} duplicate pairs, {len(c.malformed_rows)} malformed rows, "
          f"{len(c.invalid_values)} invalid values, {len(c.orphans)} orphans, "
          f"{len(c.oversized_documents)} oversized documents, {len(c.long_notes)} long notes, "
          f"{len(c.providers_without_email)} providers without email")
    print(f"document files written: {result.files_written}")
    print(f"zoho users: {result.zoho_users_path}")
    print(f"provider email overrides: {result.overrides_path}")
    print(f"injected cases: {result.cases_path}")
    print(f"time: {seconds:.1f} s ({result.total_rows / max(seconds, 1e-9):,.0f} rows/s)")
    if args.layout:
        from clinic2zoho.generator.layouts import LAYOUTS, write_layout

        for name in LAYOUTS if args.layout == "all" else [args.layout]:
            folder = out / "layouts" / name
            # the export folder is named for its layout (its source map and work folder are filed
            # under that name), with the org's users and overrides beside it as for the generic one
            export = folder / name
            shutil.rmtree(export, ignore_errors=True)
            write_layout(result.export_dir, name, folder).rename(export)
            for given in (result.zoho_users_path, result.overrides_path):
                shutil.copy(given, folder / given.name)
            print(f"layout {name}: {export} (truth: {folder / 'truth.json'})")
    return 0
