"""Accuracy and time of the mapping proposal on both shared exports and a generated export.

    .venv/bin/python bench/propose.py [--patients 500]

Prints, per export, how many expected fields the proposal's first choice matches (the
hand-checked expected mappings in tests/mapping/expected/) and the misses; then, per vendor layout
of the generated export (clinic2zoho.generator.layouts), the source map's score against the
layout's truth (clinic2zoho.mapping.source_accuracy): files to entities, columns right at the
first choice, and the misses. `--layouts none` leaves the layouts out."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clinic2zoho.generator import generate_export  # noqa: E402
from clinic2zoho.generator.layouts import LAYOUTS, write_layout  # noqa: E402
from clinic2zoho.landing import land_export  # noqa: E402
from clinic2zoho.mapping.accuracy import accuracy  # noqa: E402
from clinic2zoho.mapping.catalogue import load_catalogue  # noqa: E402
from clinic2zoho.mapping.propose import Proposer, read_manifest  # noqa: E402
from clinic2zoho.mapping.source_accuracy import score_source_map, vendor_values  # noqa: E402
from clinic2zoho.mapping.source_propose import propose_source_map  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=500, help="patients in the generated export")
    parser.add_argument("--layouts", default="all", help="vendor layouts to score: all, none, or a,b,...")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        generate_export(tmp_path / "gen", args.patients, seed=11, with_files=False)
        exports = [("synthea", SHARED / "synthea_csv_ma27"), ("fhir", SHARED / "fhir_bulk_ndjson_10"),
                   ("generic", tmp_path / "gen" / "export")]
        print(f"{'export':<10} {'fields':>6} {'matched':>7} {'accuracy':>8} {'propose s':>9}")
        for fmt, source in exports:
            warehouse = tmp_path / f"{fmt}.duckdb"
            land_export(source, fmt, warehouse)
            con = duckdb.connect(str(warehouse), read_only=True)
            started = time.perf_counter()
            mapping = Proposer(con, fmt, load_catalogue(None), read_manifest(con, fmt)).propose()
            elapsed = time.perf_counter() - started
            con.close()
            expected = {str(k): str(v) for k, v in
                        yaml.safe_load((ROOT / "tests" / "mapping" / "expected" / f"{fmt}.yml").read_text()).items()}
            score, misses = accuracy(mapping, expected)
            print(f"{fmt:<10} {len(expected):>6} {len(expected) - len(misses):>7} {score:>8.1%} {elapsed:>9.1f}")
            for key, want, got in misses:
                print(f"    miss {key}: expected {want}, proposed {got}")
        names = list(LAYOUTS) if args.layouts == "all" else [n for n in args.layouts.split(",") if n != "none"]
        if names:
            print(f"\n{'layout':<16} {'files':>7} {'columns':>9} {'accuracy':>8} {'propose s':>9}")
        for name in names:
            export = write_layout(tmp_path / "gen" / "export", name, tmp_path / name)
            truth = json.loads((tmp_path / name / "truth.json").read_text(encoding="utf-8"))
            started = time.perf_counter()
            doc = propose_source_map(export)
            elapsed = time.perf_counter() - started
            score = score_source_map(doc, truth, vendor_values(export, truth))
            print(f"{name:<16} {score.files_right:>3}/{len(score.files):<3} {score.columns_right:>4}/"
                  f"{len(score.columns):<4} {score.column_share:>8.1%} {elapsed:>9.1f}")
            for f in score.files:
                if not f.right:
                    print(f"    file {f.file}: expected {f.entity}, proposed {f.proposed or 'no entity'}")
            for c in score.misses():
                print(f"    miss {c.file} {c.header!r}: expected {c.truth}, proposed {c.proposed} ({c.miss})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
