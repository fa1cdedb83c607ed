"""Plain text from HTML and RTF notes, as the dbt models call it (a DuckDB function)."""

from __future__ import annotations

import duckdb

from clinic2zoho.transform.duckdb_functions import register_functions
from clinic2zoho.transform.text_conversion import note_to_text

RTF = r"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0\pard Knee pain, \b grade I\b0  sprain.\par RICE for 7 days.\par}"


def test_html_becomes_text_with_line_breaks_and_entities():
    html = "<p>BP 135/85 &amp; stable.</p><ul><li>Continue lisinopril</li><li>Recheck in 3&nbsp;months</li></ul>"
    assert note_to_text(html, "html") == "BP 135/85 & stable.\n\nContinue lisinopril\n\nRecheck in 3 months"


def test_rtf_becomes_text():
    assert note_to_text(RTF, "rtf") == "Knee pain, grade I sprain.\nRICE for 7 days."


def test_plain_text_is_kept_and_null_stays_null():
    assert note_to_text("Line one\r\nLine two  ", "text") == "Line one\nLine two"
    assert note_to_text(None, "html") is None


def test_the_duckdb_function_is_what_sql_sees():
    con = duckdb.connect()
    register_functions(con)
    register_functions(con)  # registering twice on one connection is harmless
    rows = con.execute(
        "select note_to_text(content, fmt) from (values ('<b>a</b>', 'html'), (?, 'rtf'), (null, 'text')) t(content, fmt)",
        [RTF],
    ).fetchall()
    assert rows == [("a",), ("Knee pain, grade I sprain.\nRICE for 7 days.",), (None,)]
