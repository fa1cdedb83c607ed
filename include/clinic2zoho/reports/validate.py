"""Validation of a load run: reconciliation (counts add up), a field-by-field spot check of a
random share of the loaded records read back from Zoho, related-list integrity, and duplicates
in Zoho (reports/duplicates.py). Written to `reports/reconciliation.html` and `.json`; a failed
validation names the rollback command."""

from __future__ import annotations

import json
import logging
import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from math import ceil
from pathlib import Path
from typing import Any, Callable

from clinic2zoho import settings as app_settings
from clinic2zoho.loader import journal
from clinic2zoho.reports import control_totals, duplicates, html, same_person, uniqueness
from clinic2zoho.reports.compare import MATCH, MISMATCH, MISSING_RECORD, NO_FIELD
from clinic2zoho.reports.field_check import FieldCheck, check_records
from clinic2zoho.reports.field_diff import by_rule
from clinic2zoho.reports.private_files import private_folder, write_private
from clinic2zoho.reports.source_values import DERIVED
from clinic2zoho.reports.integrity import IntegrityProblem, check_integrity, reads as integrity_reads
from clinic2zoho.reports.reconciliation import ModuleCount, SourceCount, module_counts, source_counts
from clinic2zoho.reports.run_context import RunContext
from clinic2zoho.reports.duplicates import Duplicate, find_duplicates, problem as duplicate_problem
from clinic2zoho.reports.org_lists import OrgLists, wide_reads
from clinic2zoho.reports.read_back import list_fields

log = logging.getLogger(__name__)


def rollback_command(run_id: str) -> str:
    return f"clinic2zoho rollback --run {run_id}"


@dataclass
class ValidationResult:
    run_id: str
    ok: bool
    problems: list[str]  # one line per failed check, record ids only
    sources: list[SourceCount]
    modules: list[ModuleCount]
    spot_checks: list[FieldCheck]
    spot_sample: dict[str, int]  # module -> records checked
    integrity: list[IntegrityProblem]
    integrity_checked: dict[str, int]
    seed: int
    spot_share: float
    duplicates: list[Duplicate] = field(default_factory=list)  # source records Zoho holds more than once
    duplicate_check: dict = field(default_factory=dict)  # what the duplicate pass read and its credits
    json_path: Path | None = None
    html_path: Path | None = None
    generated_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    treatments: list[uniqueness.Treatment] = field(default_factory=list)  # records kept clear of duplicate checks
    same_person: dict = field(default_factory=dict)  # every person in Zoho once: what was read, who is there twice
    control_totals: control_totals.ControlTotals = field(default_factory=control_totals.ControlTotals)
    columns: list = field(default_factory=list)  # every landed column accounted for (mapping.column_accounting)

    @property
    def rollback_command(self) -> str:
        return rollback_command(self.run_id)

    @property
    def mismatches(self) -> list[FieldCheck]:
        return [c for c in self.spot_checks if c.status in (MISMATCH, MISSING_RECORD)]

    def summary(self) -> dict:
        return {
            "run_id": self.run_id, "status": "passed" if self.ok else "failed", "generated_at": self.generated_at,
            "problems": self.problems,
            "duplicates": {"found": len(self.duplicates), **self.duplicate_check},
            "rollback_command": None if self.ok else self.rollback_command,
            "modules": len(self.modules),
            "table_rows": sum(m.table_rows for m in self.modules),
            "loaded": sum(m.loaded for m in self.modules),
            "linked": sum(m.linked for m in self.modules),
            "rejected": sum(m.rejected for m in self.modules),
            "skipped": sum(m.skipped for m in self.modules),
            "pending": sum(m.pending for m in self.modules),
            "counts_add_up": all(m.adds_up for m in self.modules) and all(s.adds_up for s in self.sources),
            "spot_check": {"share": self.spot_share, "seed": self.seed, "records": sum(self.spot_sample.values()),
                           "fields": sum(1 for c in self.spot_checks if c.status in (MATCH, MISMATCH)),
                           "mismatches": len(self.mismatches),
                           "fields_without_zoho_field": len({(c.module, c.field) for c in self.spot_checks
                                                             if c.status == NO_FIELD})},
            "integrity": {"relations": sum(self.integrity_checked.values()), "problems": len(self.integrity)},
            "uniqueness_treatments": {"records": sum(t.records for t in self.treatments),
                                      "loaded": sum(t.loaded for t in self.treatments)},
            "same_person": {k: v for k, v in self.same_person.items() if k not in ("twice", "merged_away")},
            "control_totals": {k: v for k, v in self.control_totals.to_dict().items() if k != "totals"},
        }

    def to_dict(self) -> dict:
        return {
            "summary": self.summary(),
            "sources": [s.to_dict() for s in self.sources],
            "modules": [m.to_dict() for m in self.modules],
            "duplicates": {"check": self.duplicate_check, "found": [d.to_dict() for d in self.duplicates]},
            "spot_check": {"sample": self.spot_sample,
                           "mismatches": [c.to_dict() for c in self.mismatches],
                           "fields_without_zoho_field": sorted({f"{c.module}.{c.field}" for c in self.spot_checks
                                                                if c.status == NO_FIELD}),
                           "checks": [c.to_dict() for c in self.spot_checks]},
            "integrity": {"checked": self.integrity_checked, "problems": [p.to_dict() for p in self.integrity]},
            "uniqueness_treatments": [t.to_dict() for t in self.treatments],
            "source_columns": [vars(c) for c in self.columns],
            "same_person": self.same_person,
            "control_totals": self.control_totals.to_dict(),
        }


def spot_sample(ctx: RunContext, share: float, minimum: int, seed: int) -> dict[str, list[str]]:
    """Per module, a random `share` (at least `minimum`) of the records the run loaded."""
    picked: dict[str, list[str]] = {}
    for module in ctx.plan.order():
        done = sorted(k for k, j in ctx.journal_rows(module).items() if j.status == "done")
        if not done:
            continue
        n = min(len(done), max(minimum, ceil(share * len(done))))
        picked[module] = sorted(random.Random(f"{seed}:{module}").sample(done, n))
    return picked


def validate_run(run_id: str, client: Any, *, warehouse: Path | None = None, journal_root: Path | None = None,
                 reports_dir: Path | None = None, spot_share: float = 0.05, min_spot: int = 3,
                 seed: int | None = None, manifest: Path | None = None,
                 on_step: Callable[[str], None] | None = None) -> ValidationResult:
    """Validate run `run_id` against the org `client` talks to and write the reports."""
    if not 0 < spot_share <= 1:
        raise ValueError(f"spot_share must be in (0, 1], got {spot_share}")
    step = on_step or (lambda _s: None)
    ctx = RunContext.open(run_id, warehouse, journal_root, manifest)
    seed = seed if seed is not None else secrets.randbelow(2**31)
    # the warehouse opened once for the many reads below, the journal's readers sharing a database
    with ctx.held(), journal.shared_reading():
        result = _validate(ctx, client, step, spot_share, min_spot, seed)
    write_reports(result, reports_dir or app_settings.reports_dir())
    log.info("validation of run %s %s: %d problem(s)", run_id, "passed" if result.ok else "failed",
             len(result.problems))
    return result


def _validate(ctx: RunContext, client: Any, step: Callable[[str], None], spot_share: float, min_spot: int,
              seed: int) -> ValidationResult:
    step("reconciliation")
    sources = source_counts(ctx)
    modules = module_counts(ctx)
    sample = spot_sample(ctx, spot_share, min_spot, seed)
    spot_lists = {m: f for m, keys in sample.items()
                  if (f := list_fields(ctx, client, ctx.plan.spec(m), keys, ctx.expected_rows(ctx.plan.spec(m))))}
    # each module listed once, with the fields of every check that reads it, shared by them all
    lists = OrgLists(client, wide=wide_reads(duplicates.reads(ctx), integrity_reads(ctx, client),
                                             control_totals.reads(ctx), spot_lists))
    step("duplicates")  # first: what the lists cost is the duplicate pass's
    found = find_duplicates(ctx, lists)
    cost = lists.cost()  # the duplicate pass alone: the other checks' further reads are not in it
    checks: list[FieldCheck] = []
    for module, keys in sample.items():
        step(f"spot check {module}")
        spec = ctx.plan.spec(module)
        checks.extend(check_records(ctx, client, spec, keys, ctx.expected_rows(spec), lists=lists))
    integrity, checked = check_integrity(ctx, client, step, lists)
    problems = _problems(sources, modules, checks, integrity) + uniqueness.duplicate_problems(ctx)
    problems += duplicate_problem(found)
    same = same_person.check(ctx, lists.records)  # two records of one person, from the same reads
    problems += same.problems() + same_person.resolvable_rejects(ctx)
    step("control totals")
    totals = control_totals.compute(ctx, lists)  # sums the spot check cannot see, source vs Zoho
    problems += totals.problems()
    result = ValidationResult(ctx.run_id, not problems, problems, sources, modules, checks,
                              {m: len(k) for m, k in sample.items()}, integrity, checked, seed, spot_share,
                              treatments=uniqueness.treatments(ctx))
    result.same_person = same.to_dict()
    result.control_totals = totals
    result.columns = source_columns(ctx.warehouse)
    result.duplicates, result.duplicate_check = found, cost
    return result


def source_columns(warehouse: Path) -> list:
    """The accounting of every landed column the gate passed (names only), for the report."""
    import duckdb

    from clinic2zoho.mapping.column_accounting import account, ordered

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return ordered(account(con))


def _problems(sources: list[SourceCount], modules: list[ModuleCount], checks: list[FieldCheck],
              integrity: list[IntegrityProblem]) -> list[str]:
    out: list[str] = []
    for s in sources:
        if not s.adds_up:
            out.append(f"{s.staging_model}: {s.unaccounted_rows} staged row(s) neither mapped nor excluded by a rule")
    for m in modules:
        if m.mapped_records is not None and m.mapped_records != m.dbt_records:
            out.append(f"{m.module}: dbt maps {m.mapped_records} record(s) but {m.table} holds {m.dbt_records}")
        if m.pending:
            out.append(f"{m.module}: {m.pending} row(s) still pending (resume the load)")
        if m.unaccounted:
            out.append(f"{m.module}: {m.unaccounted} row(s) of {m.table} neither loaded, rejected nor skipped")
    bad = [c for c in checks if c.status in (MISMATCH, MISSING_RECORD)]
    for rule, group in by_rule(bad):  # one line per rule, record ids only
        shown = ", ".join(f"{c.module} {c.key} {c.field}" for c in group[:5])
        side = "expected" if group[0].kind == DERIVED else "source"
        out.append(f"spot check: {len(group)} field(s) differ from the {side} values under the rule {rule}"
                   f" ({shown}{', ...' if len(group) > 5 else ''})")
    if integrity:
        shown = ", ".join(f"{p.module} {p.key} {p.relation}" for p in integrity[:5])
        out.append(f"integrity: {len(integrity)} broken relation(s) ({shown}{', ...' if len(integrity) > 5 else ''})")
    return out


def write_reports(result: ValidationResult, out_dir: Path) -> None:
    private_folder(out_dir)  # the spot check shows patient values: owner-only
    result.json_path = out_dir / "reconciliation.json"
    result.html_path = out_dir / "reconciliation.html"
    write_private(result.json_path, json.dumps(result.to_dict(), indent=1, default=str, ensure_ascii=False))
    write_private(result.html_path, render_html(result))


def render_html(r: ValidationResult) -> str:
    s = r.summary()
    lines = [f"<p>Run <code>{html.escape(r.run_id)}</code>: validation {html.status_word(r.ok)}"
             f" ({html.escape(r.generated_at)}).</p>",
             f"<p>{s['loaded']:,} of {s['table_rows']:,} rows loaded ({s['linked']:,} of them documents over the"
             f" attachment limit, linked where the clinic keeps them), {s['rejected']:,} rejected by Zoho,"
             f" {s['skipped']:,} skipped by a rule, {s['pending']:,} pending. Counts add up: "
             f"{'yes' if s['counts_add_up'] else 'NO'}.</p>",
             f"<p>Spot check: {s['spot_check']['records']:,} records ({r.spot_share:.0%} of each module, seed "
             f"{r.seed}), {s['spot_check']['fields']:,} fields compared, {s['spot_check']['mismatches']:,} differ."
             f" Integrity: {s['integrity']['relations']:,} relations checked, {s['integrity']['problems']:,} broken.</p>"]
    if r.same_person:
        sp = r.same_person
        lines.append(f"<p>Every person once: {', '.join(f'{n:,} {m}' for m, n in sp['read'].items()) or 'no patients'}"
                     f" read back, {sp['pairs_checked']:,} duplicate pairs of the Data Quality Report checked;"
                     f" {len(sp['twice']):,} person(s) twice, {len(sp['merged_away']):,} merged patient(s) still"
                     f" in Zoho.</p>")
    d = r.duplicate_check
    lines.append(f"<p>Duplicates in Zoho: {len(r.duplicates):,} source record(s) held more than once. The check"
                 f" read {', '.join(f'{n:,} {what}' for what, n in d.get('read', {}).items()) or 'nothing'}"
                 f" for {d.get('credits', 0):,} credits ({d.get('calls', 0):,} calls).</p>")
    if not r.ok:
        lines.append("<p class=fail>Problems:</p><ul>" + "".join(f"<li>{html.escape(p)}</li>" for p in r.problems)
                     + f"</ul><p>To undo this run: <code>{html.escape(r.rollback_command)}</code></p>")
    sections = [
        ("Zoho modules: rows of each table = loaded + rejected + skipped", html.table(
            ["module", "table", "mapped by dbt", "table rows", "loaded", "inserted", "updated", "unchanged", "rejected",
             "skipped", "pending", "unaccounted", "adds up"],
            [[m.module, m.table, m.mapped_records, m.table_rows, m.loaded, m.inserted, m.updated, m.unchanged,
              m.rejected, m.skipped, m.pending, m.unaccounted, m.adds_up] for m in r.modules],
            ["" if m.adds_up else "bad" for m in r.modules])),
        ("Rejected and skipped rows, by reason", html.table(
            ["module", "outcome", "code", "field", "rows", "example message"],
            [[m.module, "rejected", x["code"], x["field"], x["n"], x["example"]] for m in r.modules
             for x in m.reject_reasons]
            + [[m.module, "skipped", x["code"], x["field"], x["n"], x["example"]] for m in r.modules
               for x in m.skip_rules])),
        ("Records kept clear of Zoho's duplicate check (shared e-mail in Secondary_Email, clinic name"
         " qualified by city)", html.table(
            ["module", "treatment", "records", "loaded"],
            [[t.module, t.treatment, t.records, t.loaded] for t in r.treatments])),
        ("Source entities: staged = mapped + excluded by a rule", html.table(
            ["format", "source entity", "clinic model", "landed rows", "rejected at landing", "staged", "mapped",
             "excluded", "exclusion rules", "unaccounted", "adds up"],
            [[x.source_format, x.staging_model, x.clinic_model, x.landed_rows, x.landing_rejects, x.staged_rows,
              x.mapped_rows, x.excluded_rows, ", ".join(f"{k}: {v}" for k, v in x.exclusions.items()),
              x.unaccounted_rows, x.adds_up] for x in r.sources],
            ["" if x.adds_up else "bad" for x in r.sources])),
        ("Spot check: fields that differ", html.table(
            ["module", "record", "field", "source file", "row", "source column", "source value", "rule", "expected",
             "in Zoho"],
            [[c.module, c.key, c.field, c.source_file, c.source_row, c.source_column, c.source_value, c.rule,
              c.expected, c.actual] for c in r.mismatches])),
        ("Related-list integrity: broken relations", html.table(
            ["module", "record", "relation", "problem", "Zoho id"],
            [[p.module, p.key, p.relation, p.problem, p.zoho_id] for p in r.integrity])),
        ("Spot check: records per module", html.table(
            ["module", "records checked", "fields compared", "differ", "relations checked (integrity)"],
            [[m, n, sum(1 for c in r.spot_checks if c.module == m and c.status in (MATCH, MISMATCH)),
              sum(1 for c in r.spot_checks if c.module == m and c.status in (MISMATCH, MISSING_RECORD)),
              r.integrity_checked.get(m, 0)] for m, n in r.spot_sample.items()])),
        ("Columns with no Zoho field (values not stored in Zoho)", html.table(
            ["module", "column", "rule"],
            sorted({(c.module, c.field, c.rule) for c in r.spot_checks if c.status == NO_FIELD}),
            )),
    ]
    sections.append(("Every source column: migrated (to which field, by which rule) or not, with the reason",
                     html.table(["table", "column", "status", "to", "rule", "reason"],
                                [[c.table, c.column, c.status, c.target, c.rule, c.reason] for c in r.columns],
                                ["bad" if not c.accounted else "" for c in r.columns])))
    sections.insert(1, r.control_totals.section())
    sections.insert(1, ("Duplicates in Zoho: source records held more than once", html.table(
        ["module", "source id", "copies", "Zoho ids"],
        [[x.module, x.key, x.copies, ", ".join(x.zoho_ids)] for x in r.duplicates])))
    return html.page(f"Reconciliation of run {r.run_id}", "".join(lines), sections)
