"""The reference vocabularies the dbt gate's shape checks read (seeds reference_countries,
reference_states, reference_postal_codes), written from the proposer's own vocabularies in
`mapping.detectors`, so the proposal and the gate agree on what a country, a state of a country
and a postal code look like. One truth: tests/dbt/test_typed_checks.py fails when the seeds and
the Python vocabulary drift apart.

Regenerate after editing the vocabularies: `python -m clinic2zoho.mapping.reference_vocabularies`."""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

from clinic2zoho.mapping import detectors

SEEDS = {
    "reference_countries": ("key", "country_code"),
    "reference_states": ("country_code", "key", "state_code"),
    "reference_postal_codes": ("country_code", "pattern"),
}


def _re2(pattern: re.Pattern) -> str:
    """A Python pattern as DuckDB's regexp_full_match takes it (RE2, anchored by the function)."""
    text = pattern.pattern
    text = text[1:] if text.startswith("^") else text
    text = text[:-1] if text.endswith("$") else text
    return ("(?i)" if pattern.flags & re.IGNORECASE else "") + text


def seed_rows() -> dict[str, list[tuple[str, ...]]]:
    """Each seed's rows, sorted: normalised names and codes (header_words.normal, as the dbt macro
    shape_normal writes them) -> ISO 3166 alpha-2 code or state code."""
    countries = sorted(detectors.country_names().items())
    states = sorted({(country, key, code) for key, hits in detectors.state_names().items() for country, code in hits})
    postal = sorted((country, _re2(pattern)) for country, pattern in detectors.POSTAL.items())
    return {"reference_countries": countries, "reference_states": states, "reference_postal_codes": postal}


def write_seeds(seeds_dir: Path) -> list[Path]:
    written = []
    for name, rows in seed_rows().items():
        path = seeds_dir / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(SEEDS[name])
            writer.writerows(rows)
        written.append(path)
    return written


def read_seed(path: Path) -> list[tuple[str, ...]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [tuple(row) for row in list(csv.reader(f))[1:]]


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    from clinic2zoho.settings import DBT_PROJECT_DIR

    for written in write_seeds(Path(sys.argv[1]) if len(sys.argv) > 1 else DBT_PROJECT_DIR / "seeds"):
        print(written)
