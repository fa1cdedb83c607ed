"""The HTML page of the Data Quality Report (a Jinja2 template, autoescaped)."""

from __future__ import annotations

from pathlib import Path

import jinja2

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
HTML_ROWS = 100  # rows shown per finding on the page; the JSON holds more, counts are complete


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


_ENV.filters["size"] = _size
_ENV.filters["num"] = lambda n: f"{n:,}" if isinstance(n, int) else n


def render_html(report: dict) -> str:
    return _ENV.get_template("data_quality.html.j2").render(r=report, rows=HTML_ROWS)
