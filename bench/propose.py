"""Accuracy and time of the mapping proposals: the one scorer of mapping accuracy.

    .venv/bin/python bench/propose.py [--patients 500] [--layouts all|none|a,b] [--random 1-5]

1. The Zoho-side mapping (source columns -> Zoho fields, clinic2zoho.mapping.propose) on both
   shared exports and a generated generic export, against the hand-checked expected mappings in
   tests/mapping/expected/: first-choice accuracy, and "silently wrong" on its own line: first
   choices proposed at confidence >= 0.9 (not listed for review) that are wrong.
2. The source map (export columns -> clinic model, clinic2zoho.mapping.source_propose) on every
   vendor layout of the generated export (clinic2zoho.generator.layouts) and on the layouts
   `random:<seed>` nobody tuned the proposer against (headers, synonyms, file names and value
   styles drawn by the seed), scored against each layout's truth by
   clinic2zoho.mapping.source_accuracy: files, columns right at the first choice, silently wrong.

Prints the targets (>= 95% first-choice accuracy, <= 1% silently wrong) and whether each part
meets them; exits 0 either way (a bench reports, it does not gate)."""

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
from clinic2zoho.mapping.accuracy import SURE, accuracy, silently_wrong  # noqa: E402
from clinic2zoho.mapping.catalogue import load_catalogue  # noqa: E402
from clinic2zoho.mapping.propose import Proposer, read_manifest  # noqa: E402
from clinic2zoho.mapping.source_accuracy import score_source_map, vendor_values  # noqa: E402
from clinic2zoho.mapping.source_propose import propose_source_map  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
TARGET_FIRST = 0.95  # first-choice accuracy
TARGET_SILENT = 0.01  # share of columns wrong at confidence >= SURE


class Tally:
    """Columns scored, right at the first choice, and wrong though proposed at >= SURE."""

    def __init__(self, label: str) -> None:
        self.label, self.columns, self.right, self.silent = label, 0, 0, 0

    def add(self, columns: int, right: int, silent: int) -> None:
        self.columns, self.right, self.silent = self.columns + columns, self.right + right, self.silent + silent

    def line(self) -> str:
        first = self.right / self.columns if self.columns else 0.0
        silent = self.silent / self.columns if self.columns else 0.0
        met = first >= TARGET_FIRST and silent <= TARGET_SILENT
        return (f"{self.label}: first choice {self.right}/{self.columns} = {first:.1%} (target >= {TARGET_FIRST:.0%}), "
                f"silently wrong {self.silent}/{self.columns} = {silent:.1%} (target <= {TARGET_SILENT:.0%}): "
                + ("met" if met else "NOT met"))


def _seeds(text: str) -> list[int]:
    if not text or text == "none":
        return []
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=500, help="patients in the generated export")
    parser.add_argument("--layouts", default="all", help="vendor layouts to score: all, none, or a,b,...")
    parser.add_argument("--random", default="1-5", help="seeds of the random layouts: 1-5, 3, or none")
    args = parser.parse_args()
    zoho, source, unseen = Tally("Zoho-side mapping"), Tally("source map, vendor layouts"), \
        Tally("source map, random layouts")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        generate_export(tmp_path / "gen", args.patients, seed=11, with_files=False)
        exports = [("synthea", SHARED / "synthea_csv_ma27"), ("fhir", SHARED / "fhir_bulk_ndjson_10"),
                   ("generic", tmp_path / "gen" / "export")]
        print(f"{'export':<10} {'fields':>6} {'matched':>7} {'accuracy':>8} {'silent':>6} {'propose s':>9}")
        for fmt, source_dir in exports:
            warehouse = tmp_path / f"{fmt}.duckdb"
            land_export(source_dir, fmt, warehouse)
            con = duckdb.connect(str(warehouse), read_only=True)
            started = time.perf_counter()
            mapping = Proposer(con, fmt, load_catalogue(None), read_manifest(con, fmt)).propose()
            elapsed = time.perf_counter() - started
            con.close()
            expected = {str(k): str(v) for k, v in
                        yaml.safe_load((ROOT / "tests" / "mapping" / "expected" / f"{fmt}.yml").read_text()).items()}
            score, misses = accuracy(mapping, expected)
            silent = silently_wrong(mapping, expected)
            zoho.add(len(expected), len(expected) - len(misses), len(silent))
            print(f"{fmt:<10} {len(expected):>6} {len(expected) - len(misses):>7} {score:>8.1%} {len(silent):>6} "
                  f"{elapsed:>9.1f}")
            sure = {k for k, *_ in silent}
            for key, want, got in misses:
                print(f"    {'SILENT ' if key in sure else ''}miss {key}: expected {want}, proposed {got}")
        names = list(LAYOUTS) if args.layouts == "all" else [n for n in args.layouts.split(",") if n not in ("none", "")]
        names += [f"random:{seed}" for seed in _seeds(args.random)]
        if names:
            print(f"\n{'layout':<16} {'files':>7} {'columns':>9} {'accuracy':>8} {'silent':>6} {'propose s':>9}")
        for name in names:
            folder = tmp_path / name.replace(":", "_")
            export = write_layout(tmp_path / "gen" / "export", name, folder)
            truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
            started = time.perf_counter()
            doc = propose_source_map(export)
            elapsed = time.perf_counter() - started
            score = score_source_map(doc, truth, vendor_values(export, truth))
            silent = [c for c in score.misses() if c.confidence >= SURE]
            (unseen if name.startswith("random:") else source).add(len(score.columns), score.columns_right,
                                                                    len(silent))
            print(f"{name:<16} {score.files_right:>3}/{len(score.files):<3} {score.columns_right:>4}/"
                  f"{len(score.columns):<4} {score.column_share:>8.1%} {len(silent):>6} {elapsed:>9.1f}")
            if name.startswith("random:"):
                print(f"    {truth.get('description', '')}")
            for f in score.files:
                if not f.right:
                    print(f"    file {f.file}: expected {f.entity}, proposed {f.proposed or 'no entity'}")
            for c in score.misses():
                print(f"    {'SILENT ' if c.confidence >= SURE else ''}miss {c.file} {c.header!r}: expected "
                      f"{c.truth}, proposed {c.proposed} ({c.miss}, {c.confidence:.2f})")
    print("\ntargets (first choice >= 95%, silently wrong = confidence >= 0.9 and wrong <= 1%):")
    for tally in (zoho, source, unseen):
        if tally.columns:
            print("  " + tally.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
