"""Values the mapping cannot read: for each field staging parses (a date, an amount, ...), the
landed rows whose value is not blank yet breaks its parse rule, so staging leaves it empty.

The rules and the list of parsed fields are the dbt project's own macros
(dbt_project/macros/parse_values.sql), rendered here over the raw tables: the report runs before
dbt builds, and says exactly what staging will drop (dbt lists the same rows in
audit.unparsed_values and the gate warning warn_unparsed_values)."""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import Any

import duckdb
import jinja2

from clinic2zoho.quality.sql import MAX_EXAMPLES, MAX_ITEMS, quote
from clinic2zoho.settings import DBT_PROJECT_DIR

log = logging.getLogger(__name__)

MACRO_FILES = ("parse_values.sql", "latest_version.sql", "mapped_source.sql")
LINEAGE = ("_source_file", "_source_row", "_batch_id", "_loaded_at", "_row_hash")


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
    env.globals["fromjson"] = json.loads
    return env.from_string(text).module


def _render(macro: Any, *args: Any) -> str:
    try:
        return str(macro(*args))
    except _Returned as returned:
        return str(returned.args[0])


def mapped_relation(con: duckdb.DuckDBPyConnection, fmt: str, entity: str) -> tuple[str, list[str]] | None:
    """A landed table of an export in another layout seen as the clinic model, as staging sees it:
    the dbt macro mapped_value rendered for each row of raw._source_map (clinic columns renamed,
    parsed, value-mapped), the vendor's unmapped columns and the lineage kept as landed. Returns
    (relation SQL, its columns), or None when the table is read as landed (no source map)."""
    if fmt != "generic" or not con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' "
            "AND table_name = '_source_map'").fetchone()[0]:
        return None
    rows = con.execute("SELECT clinic_column, part, raw_column, parse, format, value_map FROM raw._source_map "
                       "WHERE entity = ? AND clinic_column IS NOT NULL ORDER BY clinic_column", [entity]).fetchall()
    if not rows:
        return None
    table = f"generic__{entity}"
    landed = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                                        "'raw' AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()]
    keys = ("clinic_column", "part", "raw_column", "parse", "format", "value_map")
    select, names = [], []
    for row in rows:
        select.append(f"{_render(macros().mapped_value, dict(zip(keys, row)))} AS {quote(row[0])}")
        names.append(row[0])
    used = {r[2] for r in rows} | set(names)
    for column in landed:
        if column not in used:
            select.append(quote(column))
            names.append(column)
    return f"(SELECT {', '.join(select)} FROM raw.{quote(table)})", names


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
        mapped = mapped_relation(con, fmt, table["entity"])
        landed = mapped[1] if mapped else columns[table["entity"]]
        fields = [f for f in table["fields"] if len(f) > 2 or f[0] in landed]
        if not fields:
            continue
        relation = mapped[0] if mapped else f"raw.{quote(fmt + '__' + table['entity'])}"
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
