"""The DuckDB functions the dbt models use, registered on a connection (dbt's, or a plain one
when the compiled SQL is run directly, as bench/transform.py does)."""

from __future__ import annotations

import duckdb
from duckdb.sqltypes import VARCHAR

from clinic2zoho.transform.text_conversion import note_to_text


def register_functions(conn: duckdb.DuckDBPyConnection) -> None:
    """note_to_text(content, content_format) -> plain text (HTML and RTF converted)."""
    try:
        conn.create_function(
            "note_to_text", note_to_text, [VARCHAR, VARCHAR], VARCHAR, null_handling="special", side_effects=False
        )
    except (duckdb.CatalogException, duckdb.NotImplementedException):
        pass  # already registered on this connection
