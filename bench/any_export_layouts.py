"""The corpus of vendor layouts issue 13's benchmark runs on: generate one generic export, write it in
every layout of clinic2zoho.generator.layouts.LAYOUTS, and say per layout what changed.

    .venv/bin/python bench/any_export_layouts.py --patients 300 --out /tmp/x

Writes OUT/generated/export (the generic export), OUT/<layout>/export (the vendor's files, what a
proposer may read) and OUT/<layout>/truth.json (the answer key, outside the export). Per layout it
prints the files (entity, file name, rows), whether a manifest is written, the share of cells it
changed (a cell whose text differs from the generic cell it comes from; name, extra and dropped
columns count as changed), and what the truth lists as lossy, unparsed (planted defects written
unchanged) and malformed (records with a field too many or too few, kept as such).

The scoring bench (bench/any_export.py) builds on write_layout and the truth's format, documented
in the module docstring of clinic2zoho.generator.layouts."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "include"))

from clinic2zoho.generator import generate_export  # noqa: E402
from clinic2zoho.generator.layouts import LAYOUTS, write_layout  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--with-files", action="store_true",
                        help="write the documents' (sparse) files too; by default they are listed only")
    parser.add_argument("--layout", action="append", choices=list(LAYOUTS),
                        help="only this layout (repeatable; default: all)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    generated = generate_export(args.out / "generated", args.patients, seed=args.seed, with_files=args.with_files)
    print(f"generic export: {generated.export_dir} ({generated.total_rows:,} rows, "
          f"{args.patients} patients, seed {args.seed})")

    for name in args.layout or list(LAYOUTS):
        t0 = time.perf_counter()
        export = write_layout(generated.export_dir, name, args.out / name)
        truth = json.loads((export.parent / "truth.json").read_text(encoding="utf-8"))
        cells = sum(f["cells"] for f in truth["files"])
        changed = sum(f["changed_cells"] for f in truth["files"])
        first = truth["files"][0]
        print(f"\n{name}: {export}  ({time.perf_counter() - t0:.1f} s)")
        print(f"  {truth['description']}")
        print(f"  manifest: {'yes' if truth['manifest'] else 'no'}; delimiter {first['delimiter']!r}; "
              f"encoding {first['encoding']}; cells changed: {changed:,} of {cells:,} ({changed / max(cells, 1):.0%})")
        width = max(len(f["file"]) for f in truth["files"])
        for f in truth["files"]:
            notes = []
            if f["dropped"]:
                notes.append(f"dropped {', '.join(f['dropped'])}")
            extras = [h for h, t in f["columns"].items() if t is None]
            if extras:
                notes.append(f"extra {', '.join(extras)}")
            if f["lossy"]:
                notes.append("lossy " + ", ".join(f"{h} ({len(f['lossy_rows'].get(h, []))} rows)" for h in f["lossy"]))
            if f["unparsed"]:
                notes.append(f"unparsed {sum(len(v) for v in f['unparsed'].values())}")
            if f["malformed"]:
                notes.append(f"malformed {len(f['malformed'])}")
            print(f"  {f['file']:<{width}}  {f['entity']:<19} {f['rows']:>8,} rows  "
                  f"{f['changed_cells'] / max(f['cells'], 1):>4.0%} changed  {'; '.join(notes)}")
    print(f"\ndone in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
