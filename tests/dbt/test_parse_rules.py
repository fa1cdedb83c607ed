"""The parse rules (dbt_project/macros/parse_values.sql) without dbt: what each kind reads, and
that staging parses exactly the fields the rules list (what the audit model and the Data Quality
Report check), through parse_as only."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal

import duckdb
import jinja2
import pytest

from clinic2zoho.quality.unparsed import macros, parsed_fields
from clinic2zoho.settings import DBT_PROJECT_DIR

STAGING = sorted((DBT_PROJECT_DIR / "models" / "staging").rglob("stg_*.sql"))
FHIR_ID = "json_extract_string(resource, '$.id')"  # fhir_resources' resource_id

CASES = {
    "amount": {"1234.50": Decimal("1234.50"), " -3.5 ": Decimal("-3.50"), "1e3": Decimal("1000.00"),
               "abc": None, "12,50": None, "$1,000.00": None, "NaN": None, "inf": None, "1_000": None,
               "1e20": None},
    "integer": {"2048": 2048, "12.5": None, "0x10": None, "1,024": None},
    "date": {"2024-01-05": date(2024, 1, 5), "1985-02-30": None, "13/07/1982": None, "1980": None},
    "timestamp": {"2024-01-05 09:30:00": datetime(2024, 1, 5, 9, 30), "TBD": None},
    "timestamptz": {"2023-01-27T16:17:47Z": datetime(2023, 1, 27, 16, 17, 47, tzinfo=timezone.utc), "abc": None},
    "boolean": {"true": True, "No": False, "1": True, "maybe": None},
    "base64_text": {"aGVsbG8=": "hello", "not base64!": None},
}


@pytest.fixture(scope="module")
def con():
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        yield con


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_kind_reads_what_it_should_and_nothing_else(con, kind):
    for text, expected in CASES[kind].items():
        parsed, unparsed = con.execute(
            f"SELECT {macros().parse_as('v', kind)}, {macros().is_unparsed('v', kind)} FROM (SELECT ? AS v)",
            [text]).fetchone()
        assert parsed == expected, (kind, text)
        assert unparsed == (expected is None), (kind, text)


def test_blank_is_empty_not_unparsed(con):
    for text in (None, "", "   "):
        assert con.execute(f"SELECT {macros().is_unparsed('v', 'amount')} FROM (SELECT ?::VARCHAR AS v)",
                           [text]).fetchone()[0] is False


def _staging_parses(path) -> tuple[tuple[str, str], str, set[tuple[str, str]]]:
    """Render a staging model with stubs that record its source, key and parse_as calls."""
    seen: dict = {"parses": set()}

    def parse_as(expr, kind):
        seen["parses"].add((expr, kind))
        return "null"

    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.globals.update(
        source_or_empty=lambda fmt, table, columns: seen.update(source=(fmt, table)) or "src",
        mapped_source=lambda fmt, table, columns: seen.update(source=(fmt, table)) or "src",
        fhir_resources=lambda table: seen.update(source=("fhir", table)) or "src",
        latest_version=lambda key: seen.update(key=FHIR_ID if key == "resource_id" else key) or "",
        local_to_instant=lambda expr: parse_as(expr, "timestamp"),
        parse_as=parse_as,
        lineage_columns=lambda fmt: "null",
    )
    env.from_string(path.read_text(encoding="utf-8")).render()
    return seen["source"], seen["key"], seen["parses"]


def test_staging_parses_exactly_the_listed_fields():
    listed = {(t["format"], t["entity"]): (t["key"], {(f[2] if len(f) > 2 else f[0], f[1]) for f in t["fields"]})
              for t in parsed_fields()}
    staged = {}
    for path in STAGING:
        source, key, parses = _staging_parses(path)
        if parses:
            staged[source] = (key, parses)
    assert staged == listed


def test_staging_casts_text_only_through_parse_as():
    # cast(null as ...) and casting an already parsed value are not reading text
    allowed = re.compile(r"cast\((null|\{\{ parse_as\()")
    for path in STAGING:
        text = path.read_text(encoding="utf-8")
        casts = [m.start() for m in re.finditer(r"\b(try_)?cast\(|::|from_base64\(", text)
                 if not allowed.match(text, m.start())]
        assert not casts, f"{path.name}: read text with parse_as (macros/parse_values.sql)"
