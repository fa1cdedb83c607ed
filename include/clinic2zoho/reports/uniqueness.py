"""Zoho's duplicate check in the reconciliation (Email on Contacts and Leads, Account_Name on
Accounts, and any field an org makes unique).

The dbt models give records that would collide a treatment (a shared e-mail in Secondary_Email, a
shared clinic name qualified by city): `treatments` counts them per module from
`audit.uniqueness_treatments`, with how many of them the run loaded. A row Zoho still refused as
DUPLICATE_DATA is a record lost to a rule a person could have resolved before the load (a merge,
a corrected value): `duplicate_problems` makes it a validation failure, record ids only."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb

from clinic2zoho.reports.run_context import RunContext

DUPLICATE = "DUPLICATE_DATA"
IDS_SHOWN = 5


@dataclass
class Treatment:
    module: str
    treatment: str  # email_in_secondary_email | name_qualified
    records: int  # treated records in the table the run loaded
    loaded: int  # of them, loaded by the run

    def to_dict(self) -> dict:
        return asdict(self)


def treatments(ctx: RunContext) -> list[Treatment]:
    if not ctx.table_exists("audit.uniqueness_treatments"):
        return []  # a warehouse built before the treatments existed
    out: list[Treatment] = []
    for module in ctx.plan.order():
        spec = ctx.plan.spec(module)
        if not spec.external_id:
            continue
        try:
            rows = ctx.sql(f'SELECT t.treatment, t.record_id FROM audit.uniqueness_treatments t'
                           f' JOIN {spec.table} m ON CAST(m."{spec.external_id}" AS VARCHAR) = t.record_id'
                           f' WHERE t.zoho_module = ?', [module])
        except duckdb.Error:
            continue
        if not rows:
            continue
        journal = ctx.journal_rows(module)
        by_treatment: dict[str, list[str]] = {}
        for r in rows:
            by_treatment.setdefault(r["treatment"], []).append(r["record_id"])
        for name, ids in sorted(by_treatment.items()):
            done = sum(1 for i in ids if (j := journal.get(i)) is not None and j.status == "done")
            out.append(Treatment(module, name, len(ids), done))
    return out


def duplicate_problems(ctx: RunContext) -> list[str]:
    """One line per module and field where Zoho refused rows as DUPLICATE_DATA."""
    out: list[str] = []
    for module in ctx.plan.order():
        by_field: dict[str, list[str]] = {}
        for key, row in ctx.journal_rows(module).items():
            if row.status == "rejected" and row.error_code == DUPLICATE:
                by_field.setdefault(row.error_field or "a unique field", []).append(key)
        for name, keys in sorted(by_field.items()):
            keys.sort()
            shown = ", ".join(keys[:IDS_SHOWN]) + (", ..." if len(keys) > IDS_SHOWN else "")
            out.append(f"{module}: {len(keys)} row(s) refused by Zoho as {DUPLICATE} on {name} ({shown}): records "
                       f"sharing a value Zoho keeps unique need a treatment in the models or a merge before the load")
    return out
