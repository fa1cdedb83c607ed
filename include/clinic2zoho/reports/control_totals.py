"""Control totals: sums a spot check of a few records cannot see, in the source and in Zoho, side
by side — billed, paid and balance per payer and month (Billing_History), visits per month and
outcome (Events and Tasks).

The source side is the landed clinic model (`intermediate.int_claims`, `int_appointments`), not
the zoho_* tables: a zoho model reading the wrong column moves a total. Both sides cover the
records the run loaded (journal status done); the Zoho side is read back from the org through the
client, every record of the module whose external id is one of them (a record held twice counts
twice). Visit outcomes are grouped by the Zoho pick-list value the confirmed value map
(seed visit_outcome_map) gives the source outcome. Any difference fails validation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from clinic2zoho.reports import html
from clinic2zoho.reports.run_context import RunContext

NO_VALUE = "(none)"
CENT = Decimal("0.01")
SHOWN = 5  # differences named in the problem line

# Zoho module -> (external id, date field, fields summed); the source query gives the same groups
CLAIMS = ("Billing_History", "Clinic_Claim_Id", "Service_Date", {"billed": "Amount", "paid": "Amount_Paid",
                                                                 "balance": "Balance"})
VISITS = {"Events": ("Clinic_Appointment_Id", "Start_DateTime"), "Tasks": ("Clinic_Appointment_Id", "Due_Date")}

_SOURCE_CLAIMS = """
SELECT claim_id AS key, payer_name AS payer, strftime(service_date, '%Y-%m') AS month,
       amount_billed AS billed, amount_paid AS paid, balance
FROM intermediate.int_claims WHERE exclusion_rule IS NULL"""
_SOURCE_VISITS = """
SELECT appointments.appointment_id AS key, strftime(appointments.visit_date, '%Y-%m') AS month,
       coalesce(outcomes.Visit_Outcome, appointments.outcome) AS outcome
FROM intermediate.int_appointments AS appointments
LEFT JOIN seeds.visit_outcome_map AS outcomes ON appointments.outcome = outcomes.source_outcome
WHERE appointments.exclusion_rule IS NULL"""


@dataclass(frozen=True)
class ControlTotal:
    measure: str  # billed | paid | balance (money) or visits (a count)
    group: tuple[str, str]  # (payer, month) or (month, outcome)
    source: Decimal | int
    zoho: Decimal | int

    @property
    def difference(self) -> Decimal | int:
        return self.zoho - self.source

    @property
    def differs(self) -> bool:
        return self.difference != 0

    def to_dict(self) -> dict:
        return dict(asdict(self), difference=self.difference, differs=self.differs)


@dataclass
class ControlTotals:
    totals: list[ControlTotal] = field(default_factory=list)
    records: dict[str, dict[str, int]] = field(default_factory=dict)  # module -> {source, zoho} records summed
    # totals that could not be summed, with why (a warehouse whose clinic model was not built by dbt)
    unavailable: list[str] = field(default_factory=list)

    @property
    def differences(self) -> list[ControlTotal]:
        return [t for t in self.totals if t.differs]

    def problems(self) -> list[str]:
        bad = self.differences
        if not bad:
            return []
        shown = "; ".join(f"{t.measure} {' '.join(t.group)}: source {t.source}, Zoho {t.zoho}" for t in bad[:SHOWN])
        return [f"control totals: {len(bad)} total(s) differ between the source and Zoho ({shown}"
                f"{'; ...' if len(bad) > SHOWN else ''})"]

    def to_dict(self) -> dict:
        return {"records": self.records, "compared": len(self.totals), "differ": len(self.differences),
                "unavailable": self.unavailable, "totals": [t.to_dict() for t in self.totals]}

    def section(self) -> tuple[str, str]:
        """The reconciliation page's section: differences first."""
        ordered = sorted(self.totals, key=lambda t: (not t.differs, t.measure, t.group))
        rows = [[t.measure, " / ".join(t.group), t.source, t.zoho, t.difference] for t in ordered]
        rows += [["not summed", why, "", "", ""] for why in self.unavailable]
        return ("Control totals: the source and Zoho side by side (records the run loaded)", html.table(
            ["measure", "group", "source", "Zoho", "difference"], rows,
            ["bad" if t.differs else "" for t in ordered] + ["" for _ in self.unavailable]))


def _money(value: Any) -> Decimal:
    if value in (None, ""):
        return Decimal(0)
    try:
        return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)
    except InvalidOperation:
        return Decimal(0)


def _month(value: Any) -> str:
    text = str(value or "")
    return text[:7] if len(text) >= 7 else NO_VALUE


def _done(ctx: RunContext, module: str) -> set[str]:
    return {key for key, row in ctx.journal_rows(module).items() if row.status == "done"}


def _summed(ctx: RunContext) -> tuple[list[str], list[str]]:
    """(the modules whose totals are summed, the clinic models missing for the others)."""
    modules = set(ctx.plan.order())
    built = {r["table_name"] for r in ctx.sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'intermediate'")}
    summed: list[str] = []
    missing: list[str] = []
    for wanted, needs in (([CLAIMS[0]] if CLAIMS[0] in modules else [], "int_claims"),
                          ([m for m in VISITS if m in modules], "int_appointments")):
        if wanted and needs not in built:
            missing.append(needs)
        else:
            summed += wanted
    return summed, missing


def _fields(module: str) -> list[str]:
    """The fields a module's records are read back with."""
    if module == CLAIMS[0]:
        return [CLAIMS[1], "Payer", CLAIMS[2], *CLAIMS[3].values()]
    key_field, date_field = VISITS[module]
    return [key_field, date_field, "Visit_Outcome"]


def reads(ctx: RunContext) -> dict[str, list[str]]:
    """module -> the fields `compute` reads it with (for reports.org_lists.wide_reads)."""
    return {module: _fields(module) for module in _summed(ctx)[0]}


def compute(ctx: RunContext, lists: Any) -> ControlTotals:
    """The control totals of run `ctx` (modules it did not load are left out). `lists` reads the
    org: reports.org_lists.OrgLists, so the reads' credits count with validation's."""
    out = ControlTotals()
    summed, missing = _summed(ctx)
    for needs in missing:
        out.unavailable.append(f"intermediate.{needs} is not in the warehouse: its totals were not summed")
    if CLAIMS[0] in summed:
        _claims(ctx, lists, out)
    if set(summed) & set(VISITS):
        _visits(ctx, lists, out, [m for m in VISITS if m in summed])
    return out


def _claims(ctx: RunContext, lists: Any, out: ControlTotals) -> None:
    module, key_field, date_field, measures = CLAIMS
    done = _done(ctx, module)
    source: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    zoho: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    summed = 0
    for row in ctx.sql(_SOURCE_CLAIMS):
        if row["key"] in done:
            summed += 1
            group = (row["payer"] or NO_VALUE, row["month"] or NO_VALUE)
            for measure in measures:
                source[group][measure] += _money(row[measure])
    read = 0
    for record in lists.records(module, _fields(module)):
        if str(record.get(key_field) or "") in done:
            read += 1
            group = (record.get("Payer") or NO_VALUE, _month(record.get(date_field)))
            for measure, api_name in measures.items():
                zoho[group][measure] += _money(record.get(api_name))
    out.records[module] = {"source": summed, "zoho": read}
    for group in sorted(set(source) | set(zoho)):
        for measure in measures:
            out.totals.append(ControlTotal(measure, group, source[group][measure], zoho[group][measure]))


def _visits(ctx: RunContext, lists: Any, out: ControlTotals, modules: list[str]) -> None:
    done = {m: _done(ctx, m) for m in modules}
    loaded = set().union(*done.values())
    source: dict[tuple, int] = defaultdict(int)
    zoho: dict[tuple, int] = defaultdict(int)
    for row in ctx.sql(_SOURCE_VISITS):
        if row["key"] in loaded:
            source[(row["month"] or NO_VALUE, row["outcome"] or NO_VALUE)] += 1
    for module in modules:
        key_field, date_field = VISITS[module]
        read = 0
        for record in lists.records(module, _fields(module)):
            if str(record.get(key_field) or "") in done[module]:
                read += 1
                zoho[(_month(record.get(date_field)), record.get("Visit_Outcome") or NO_VALUE)] += 1
        out.records[module] = {"source": len(done[module]), "zoho": read}
    for group in sorted(set(source) | set(zoho)):
        out.totals.append(ControlTotal("visits", group, source[group], zoho[group]))
