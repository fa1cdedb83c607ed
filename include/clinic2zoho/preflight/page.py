"""The readiness table on the terminal (rich) and as reports/doctor.html (the project's report
helpers). Both show causes and fixes only: no credential, token or patient data."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

from clinic2zoho.preflight.readiness import FAIL, OK, WARN, Readiness
from clinic2zoho.reports import html

_STYLE = {OK: "green", WARN: "yellow", FAIL: "bold red"}
_ROW_CLASS = {OK: "", WARN: "warn", FAIL: "bad"}


def print_table(readiness: Readiness, where: str, console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console(highlight=False)
    table = Table(title=f"Zoho readiness: {where}", show_lines=True)
    for header in ("check", "status", "cause", "fix"):
        table.add_column(header, overflow="fold")
    for c in readiness.checks:
        table.add_row(c.name, f"[{_STYLE[c.status]}]{c.status}[/]", c.cause, c.fix)
    console.print(table)
    console.print("READY: nothing above fails." if readiness.ready else
                  f"NOT READY: {len(readiness.failed())} check(s) fail; fix them and run `clinic2zoho doctor` again.")


def write_page(readiness: Readiness, where: str, path: Path) -> Path:
    verdict = (html.status_word(True) + " ready" if readiness.ready else
               html.status_word(False) + f" not ready: {len(readiness.failed())} check(s) fail")
    summary = (f"<p>{verdict}</p><p>Org: {escape(where)}<br>Checked {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC "
               "by <code>clinic2zoho doctor</code>. Each check reads; none changed the org.</p>")
    checks = html.table(["check", "status", "cause", "fix"], [[c.name, c.status, c.cause, c.fix] for c in readiness.checks],
                        [_ROW_CLASS[c.status] for c in readiness.checks])
    sections = [("Checks", checks)]
    sections += [(heading, html.table(headers, rows)) for heading, (headers, rows) in readiness.details.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html.page("Zoho readiness (doctor)", summary, sections), encoding="utf-8")
    return path


def write_json(readiness: Readiness, where: str, path: Path) -> Path:
    """The same rows for a script or CI step: {"ready", "org", "checks": [{name, status, cause, fix}]}."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"ready": readiness.ready, "org": where,
                                "checks": [asdict(c) for c in readiness.checks]}, indent=1), encoding="utf-8")
    return path
