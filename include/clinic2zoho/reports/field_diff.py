"""The sample migration's field-level diff: every mapped field of every record of the sample
tables, read back from the (sandbox) org the sample was loaded into, against the value the dbt
tables expect, with the rule (dbt model and column description) that produced it. Written to
`reports/sample_diff.csv` (every field) and `.html` (summary, then the differences), mismatches
first."""

from __future__ import annotations

import csv
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from clinic2zoho import settings as app_settings
from clinic2zoho.reports import html
from clinic2zoho.reports.compare import MATCH, MISMATCH, MISSING_RECORD, NO_FIELD, NOT_LOADED
from clinic2zoho.reports.field_check import FieldCheck, check_records
from clinic2zoho.reports.run_context import RunContext

log = logging.getLogger(__name__)
STATUS_ORDER = {MISMATCH: 0, MISSING_RECORD: 1, NOT_LOADED: 2, NO_FIELD: 3, MATCH: 4}
CSV_COLUMNS = ["status", "module", "record", "field", "expected", "actual", "rule", "zoho_id"]


@dataclass
class SampleDiffResult:
    run_id: str
    rows: list[FieldCheck]  # sorted: mismatches first
    records: dict[str, int]  # module -> records compared
    csv_path: Path | None = None
    html_path: Path | None = None
    generated_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def mismatches(self) -> list[FieldCheck]:
        return [r for r in self.rows if r.status in (MISMATCH, MISSING_RECORD)]

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def summary(self) -> dict:
        return {"run_id": self.run_id, "records": sum(self.records.values()),
                "fields": self.count(MATCH) + self.count(MISMATCH), "match": self.count(MATCH),
                "mismatch": self.count(MISMATCH), "missing_record": self.count(MISSING_RECORD),
                "not_loaded": self.count(NOT_LOADED), "no_field": self.count(NO_FIELD)}


def sample_diff(run_id: str, client: Any, *, warehouse: Path | None = None, journal_root: Path | None = None,
                reports_dir: Path | None = None, manifest: Path | None = None,
                on_step: Callable[[str], None] | None = None) -> SampleDiffResult:
    """Diff every record of run `run_id`'s tables against the org `client` talks to."""
    ctx = RunContext.open(run_id, warehouse, journal_root, manifest)
    rows: list[FieldCheck] = []
    records: dict[str, int] = {}
    for module in ctx.plan.order():
        if on_step:
            on_step(f"diff {module}")
        spec = ctx.plan.spec(module)
        expected = ctx.expected_rows(spec)
        records[module] = len(expected)
        rows.extend(check_records(ctx, client, spec, sorted(expected), expected))
    rows.sort(key=lambda r: (STATUS_ORDER.get(r.status, 9), r.module, r.key, r.field))
    result = SampleDiffResult(run_id, rows, records)
    write_diff(result, reports_dir or app_settings.reports_dir())
    log.info("sample diff of run %s: %d field(s) compared, %d differ", run_id, result.summary()["fields"],
             len(result.mismatches))
    return result


def write_diff(result: SampleDiffResult, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    result.csv_path = out_dir / "sample_diff.csv"
    result.html_path = out_dir / "sample_diff.html"
    with result.csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for r in result.rows:
            writer.writerow([r.status, r.module, r.key, r.field, r.expected, r.actual, r.rule, r.zoho_id or ""])
    result.html_path.write_text(render_html(result), encoding="utf-8")


def render_html(r: SampleDiffResult) -> str:
    s = r.summary()
    verdict = html.status_word(r.ok)
    summary = (f"<p>Sample run <code>{html.escape(r.run_id)}</code> ({html.escape(r.generated_at)}): {verdict}."
               f" {s['records']:,} records, {s['fields']:,} fields compared: {s['match']:,} match,"
               f" {s['mismatch']:,} differ; {s['missing_record']:,} loaded records missing in Zoho;"
               f" {s['not_loaded']:,} records not loaded (rejected or skipped, with the reason);"
               f" {s['no_field']:,} values with no Zoho field to hold them.</p>"
               "<p>Every compared field is listed in <code>sample_diff.csv</code> beside this page.</p>")
    per_field: Counter = Counter()
    per_field_bad: Counter = Counter()
    for row in r.rows:
        if row.status in (MATCH, MISMATCH):
            per_field[(row.module, row.field)] += 1
            if row.status == MISMATCH:
                per_field_bad[(row.module, row.field)] += 1
    diffs = [x for x in r.rows if x.status != MATCH]
    sections = [
        ("Differences, not loaded, and values with no Zoho field (mismatches first)", html.table(
            ["status", "module", "record", "field", "expected", "in Zoho", "rule"],
            [[x.status, x.module, x.key, x.field, x.expected, x.actual, x.rule] for x in diffs],
            ["bad" if x.status in (MISMATCH, MISSING_RECORD) else "warn" for x in diffs])),
        ("Fields compared, per module", html.table(
            ["module", "field", "compared", "differ"],
            [[m, f, n, per_field_bad[(m, f)]] for (m, f), n in sorted(per_field.items())],
            ["bad" if per_field_bad[k] else "" for k in sorted(per_field)])),
        ("Records per module", html.table(["module", "records"], sorted(r.records.items()))),
    ]
    return html.page(f"Sample migration: field-level diff of run {r.run_id}", summary, sections)
