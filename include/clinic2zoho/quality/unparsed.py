"""Values the mapping cannot read: for each field staging parses (a date, an amount, ...), the
landed rows whose value is not blank yet breaks its parse rule, so staging leaves it empty.

The rules and the list of parsed fields are the dbt project's own macros
(dbt_project/macros/parse_values.sql), rendered here over the raw tables: the report runs before
dbt builds, and says exactly what staging will drop (dbt lists the same rows in
audit.unparsed_values and the gate warning warn_unparsed_values)."""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import duckdb
import jinja2

from clinic2zoho.quality.checks import MAX_EXAMPLES, MAX_ITEMS, quote
from clinic2zoho.settings import DBT_PROJECT_DIR

log = logging.getLogger(__name__)

MACRO_FILES = ("parse_values.sql", "latest_version.sql")


class _Returned(Exception):
    """dbt's `{{ return(value) }}` (dbt implements it the same way: an exception with the value)."""


def _return(value: Any) -> None:
    raise _Returned(value)


@cache
def macros() -> Any:
    """The macros of MACRO_FILES as plain Jinja (they use no dbt context)."""
    text = "\n".join((DBT_PROJECT_DIR / "macros" / name).read_text(encoding="utf-8") for name in MACRO_FILES)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"])
    env.globals["return"] = _return
    return env.from_string(text).module


def parsed_fields() -> list[dict[str, Any]]:
    try:
        macros().parsed_fields()
    except _Returned as returned:
        return returned.args[0]
    raise RuntimeError("parsed_fields() returned nothing")


def unparsed_values(con: duckdb.DuckDBPyConnection, fmt: str, columns: dict[str, list[str]]) -> list[dict]:
    """Findings per (entity, field): {entity, field, expected_type, count, items: [{source_file,
    source_row, record_id, value}]}. `columns`: the landed raw tables of `fmt` and their columns;
    a field whose column was not landed is skipped."""
    out = []
    for table in (t for t in parsed_fields() if t["format"] == fmt and t["entity"] in columns):
        landed = columns[table["entity"]]
        fields = [f for f in table["fields"] if len(f) > 2 or f[0] in landed]
        if not fields:
            continue
        relation = f"raw.{quote(fmt + '__' + table['entity'])}"
        sql = str(macros().unparsed_rows(relation, fmt, table["entity"], table["key"], fields))
        rows = con.execute(
            f"SELECT field, expected_type, source_file, source_row, record_id, value, "
            f"count(*) OVER (PARTITION BY field), "
            f"row_number() OVER (PARTITION BY field ORDER BY source_file, source_row) AS n "
            f"FROM ({sql}) QUALIFY n <= {MAX_ITEMS} ORDER BY field, n").fetchall()
        for field in dict.fromkeys(r[0] for r in rows):
            found = [r for r in rows if r[0] == field]
            log.info("unreadable %s in %s.%s: %d (ids %s)", found[0][1], table["entity"], field, found[0][6],
                     [r[4] for r in found[:MAX_EXAMPLES]])
            out.append({"entity": table["entity"], "field": field, "expected_type": found[0][1],
                        "count": found[0][6],
                        "items": [{"source_file": r[2], "source_row": r[3], "record_id": r[4], "value": r[5]}
                                  for r in found]})
    return out
