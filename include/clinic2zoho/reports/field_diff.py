"""The sample migration's field-level diff: every mapped field of every record of the sample
tables, read back from the (sandbox) org the sample was loaded into. A field the mapping file
declares as a copy, a cast or a value map of one source column is compared with the value of that
column in the landed row the record came from (file, row, column, value); a derived field with the
value dbt computed, listing its source inputs (reports/field_check.py). Written to
`reports/sample_diff.csv` (every field) and `.html` (summary, the differences grouped by rule, then
each difference), mismatches first, owner-only: they hold patient values."""

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
from clinic2zoho.reports.field_check import FieldCheck, check_records, source_reader
from clinic2zoho.reports.private_files import open_private, private_folder, write_private
from clinic2zoho.reports.run_context import RunContext

log = logging.getLogger(__name__)
STATUS_ORDER = {MISMATCH: 0, MISSING_RECORD: 1, NOT_LOADED: 2, NO_FIELD: 3, MATCH: 4}
CSV_COLUMNS = ["status", "module", "record", "field", "source_file", "source_row", "source_column", "source_value",
               "rule", "kind", "expected", "actual", "dbt_value", "zoho_id"]


def by_rule(rows: list[FieldCheck]) -> list[tuple[str, list[FieldCheck]]]:
    """Differences grouped by the rule that produced them, the largest group first, so a rule is
    confirmed or corrected in one place."""
    groups: dict[str, list[FieldCheck]] = {}
    for r in rows:
        if r.status in (MISMATCH, MISSING_RECORD):
            groups.setdefault(r.rule, []).append(r)
    return sorted(groups.items(), key=lambda g: (-len(g[1]), g[0]))


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
                on_step: Callable[[str], None] | None = None, dbt_dir: Path | None = None) -> SampleDiffResult:
    """Diff every record of run `run_id`'s tables against the org `client` talks to, reading the
    declared rules from `dbt_dir`'s mapping files (default: the project's)."""
    ctx = RunContext.open(run_id, warehouse, journal_root, manifest)
    rows: list[FieldCheck] = []
    records: dict[str, int] = {}
    with ctx.held():  # the warehouse opened once for the reads of every module
        sources = source_reader(ctx, dbt_dir)
        for module in ctx.plan.order():
            if on_step:
                on_step(f"diff {module}")
            spec = ctx.plan.spec(module)
            expected = ctx.expected_rows(spec)
            records[module] = len(expected)
            rows.extend(check_records(ctx, client, spec, sorted(expected), expected, sources))
    groups = {rule: n for n, (rule, _) in enumerate(by_rule(rows))}
    rows.sort(key=lambda r: (STATUS_ORDER.get(r.status, 9), groups.get(r.rule, 0), r.module, r.key, r.field))
    result = SampleDiffResult(run_id, rows, records)
    write_diff(result, reports_dir or app_settings.reports_dir())
    log.info("sample diff of run %s: %d field(s) compared, %d differ", run_id, result.summary()["fields"],
             len(result.mismatches))
    for rule, bad in by_rule(rows):  # rules and record ids only: the values stay in the report
        log.warning("differs from the source: %s: %d field(s) (records %s)", rule, len(bad),
                    ", ".join(r.key for r in bad[:5]) + (", ..." if len(bad) > 5 else ""))
    return result


def write_diff(result: SampleDiffResult, out_dir: Path) -> None:
    private_folder(out_dir)
    result.csv_path = out_dir / "sample_diff.csv"
    result.html_path = out_dir / "sample_diff.html"
    with open_private(result.csv_path, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for r in result.rows:
            writer.writerow([r.status, r.module, r.key, r.field, r.source_file,
                             "" if r.source_row is None else r.source_row, r.source_column, r.source_value, r.rule,
                             r.kind, r.expected, r.actual, r.dbt_value, r.zoho_id or ""])
    write_private(result.html_path, render_html(result))


def render_html(r: SampleDiffResult) -> str:
    s = r.summary()
    verdict = html.status_word(r.ok)
    summary = (f"<p>Sample run <code>{html.escape(r.run_id)}</code> ({html.escape(r.generated_at)}): {verdict}."
               f" {s['records']:,} records, {s['fields']:,} fields compared: {s['match']:,} match,"
               f" {s['mismatch']:,} differ; {s['missing_record']:,} loaded records missing in Zoho;"
               f" {s['not_loaded']:,} records not loaded (rejected or skipped, with the reason);"
               f" {s['no_field']:,} values with no Zoho field to hold them.</p>"
               "<p>A field the mapping declares as a copy, a cast or a value map of one source column is compared"
               " with that column's value in the export (file, row, column), not with dbt's: a model reading the"
               " wrong column shows here. Derived fields (lookups, owners, values built from several columns)"
               " are compared with the value dbt computed and list their source columns.</p>"
               "<p>Every compared field is listed in <code>sample_diff.csv</code> beside this page. Both hold"
               " patient values: they are readable by their owner only.</p>")
    per_field: Counter = Counter()
    per_field_bad: Counter = Counter()
    for row in r.rows:
        if row.status in (MATCH, MISMATCH):
            per_field[(row.module, row.field)] += 1
            if row.status == MISMATCH:
                per_field_bad[(row.module, row.field)] += 1
    diffs = [x for x in r.rows if x.status != MATCH]
    groups = by_rule(r.rows)
    sections = [
        ("Differences by rule: confirm or correct each rule in one place", html.table(
            ["rule", "fields", "records", "example record", "source", "source value", "expected", "in Zoho"],
            [[rule, len(bad), len({b.key for b in bad}), bad[0].key, _where(bad[0]), bad[0].source_value,
              bad[0].expected, bad[0].actual] for rule, bad in groups],
            ["bad"] * len(groups))),
        ("Differences, not loaded, and values with no Zoho field (mismatches first)", html.table(
            ["status", "module", "record", "field", "source (file, row, column)", "source value", "rule",
             "expected", "in Zoho", "dbt computed"],
            [[x.status, x.module, x.key, x.field, _where(x), x.source_value, x.rule, x.expected, x.actual,
              x.dbt_value] for x in diffs],
            ["bad" if x.status in (MISMATCH, MISSING_RECORD) else "warn" for x in diffs])),
        ("Fields compared, per module", html.table(
            ["module", "field", "compared", "differ"],
            [[m, f, n, per_field_bad[(m, f)]] for (m, f), n in sorted(per_field.items())],
            ["bad" if per_field_bad[k] else "" for k in sorted(per_field)])),
        ("Records per module", html.table(["module", "records"], sorted(r.records.items()))),
    ]
    return html.page(f"Sample migration: field-level diff of run {r.run_id}", summary, sections)


def _where(x: FieldCheck) -> str:
    if not x.source_file:
        return ""
    return f"{x.source_file}, row {x.source_row}" + (f", {x.source_column}" if x.source_column else "")
