"""Validation's checks that every person is in Zoho once, and that nothing was rejected for a
reason a person resolves before the load.

`check` reads back the patients Zoho holds (Contacts and Leads: their clinic patient ids, 200 a
page, the whole org, every run's records; in validation the pages its duplicate check read) and
compares them with the duplicate pairs the gate saw (`intermediate.int_duplicate_decisions`) and
the merges (`intermediate.int_patient_merges`):
Zoho holds two records of one person when both patients of a pair are there and the pair was
merged, or needs a decision and has none; a merged-away patient still in Zoho is one too (its
records went to the survivor). A pair confirmed as two different people is fine.

`resolvable_rejects`: rows Zoho or the loader refused because the record's owner is no user of the
org (OWNER_UNRESOLVED: an e-mail override fixes it) and the rows rejected with them or with a
record Zoho refused as DUPLICATE_DATA (a merge or a treatment fixes it; that refusal itself is
reported by reports.uniqueness), found by following each rejected row's lookup or parent.
Problem lines name record ids only."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from clinic2zoho.reports.run_context import RunContext

PATIENT_MODULES = ("Contacts", "Leads")
RESOLVABLE = {"OWNER_UNRESOLVED": "the owner's e-mail is no user of the org: fill it in provider_email_overrides",
              "DUPLICATE_DATA": "refused by Zoho's duplicate check: merge the pair or treat the value"}
FOLLOWING = ("PARENT_UNRESOLVED", "LOOKUP_UNRESOLVED")  # rejected because the record they point at was
SHOWN = 5


@dataclass
class SamePerson:
    read: dict[str, int] = field(default_factory=dict)  # records read back per module
    pairs_checked: int = 0
    twice: list[tuple[str, str, str]] = field(default_factory=list)  # (id 1, id 2, decision)
    merged_away: list[tuple[str, str]] = field(default_factory=list)  # (duplicate, survivor)

    def to_dict(self) -> dict:
        return asdict(self)

    def problems(self) -> list[str]:
        out = []
        if self.twice:
            shown = ", ".join(f"{a} & {b} ({d})" for a, b, d in self.twice[:SHOWN])
            out.append(f"Zoho holds {len(self.twice)} person(s) twice ({shown}{', ...' if len(self.twice) > SHOWN else ''})"
                       ": merge them (clinic2zoho resolve-duplicates) and remove the duplicate from Zoho")
        if self.merged_away:
            shown = ", ".join(f"{d} into {s}" for d, s in self.merged_away[:SHOWN])
            out.append(f"Zoho still holds {len(self.merged_away)} patient(s) merged into another "
                       f"({shown}{', ...' if len(self.merged_away) > SHOWN else ''}): remove them from Zoho")
        return out


def check(ctx: RunContext, records: Callable[[str, list[str]], list[dict]]) -> SamePerson:
    """`records(module, fields)`: the reader validation shares between its checks
    (reports/duplicates.OrgLists.records: each module read once, its credits counted there)."""
    result = SamePerson()
    if not ctx.table_exists("intermediate.int_duplicate_decisions"):
        return result  # a warehouse built before the duplicate gate existed
    pairs = ctx.sql("SELECT patient_id_1, patient_id_2, needs_decision, decision FROM "
                    "intermediate.int_duplicate_decisions")
    merges = ctx.sql("SELECT duplicate_patient_id, surviving_patient_id FROM intermediate.int_patient_merges") \
        if ctx.table_exists("intermediate.int_patient_merges") else []
    held: set[str] = set()
    for module in PATIENT_MODULES:
        spec = ctx.plan.spec(module) if module in ctx.plan.modules() else None
        if spec is None or not spec.external_id:
            continue
        fields = [spec.external_id]
        found = records(module, fields)
        result.read[module] = len(found)
        held |= {str(r[spec.external_id]) for r in found if r.get(spec.external_id) not in (None, "")}
    result.pairs_checked = len(pairs)
    for p in pairs:
        one_person = p["decision"] in ("merged", "contradictory") or (p["needs_decision"] and p["decision"] is None)
        if one_person and p["patient_id_1"] in held and p["patient_id_2"] in held:
            result.twice.append((p["patient_id_1"], p["patient_id_2"], p["decision"] or "undecided"))
    counted = {x for a, b, _ in result.twice for x in (a, b)}
    result.merged_away = sorted((m["duplicate_patient_id"], m["surviving_patient_id"]) for m in merges
                                if m["duplicate_patient_id"] in held and m["duplicate_patient_id"] not in counted)
    result.twice.sort()
    return result


def resolvable_rejects(ctx: RunContext) -> list[str]:
    """One line per module and resolvable reason: the rows refused for it (OWNER_UNRESOLVED only:
    DUPLICATE_DATA has its own line) and the rows rejected with them."""
    blocked: dict[tuple[str, str], str] = {}  # (module, key) -> the resolvable code at the root
    lines: list[str] = []
    for module in ctx.plan.order():
        spec = ctx.plan.spec(module)
        rejected = {k: r for k, r in ctx.journal_rows(module).items() if r.status == "rejected"}
        own: dict[str, list[str]] = {}
        following: dict[str, list[str]] = {}
        expected = ctx.expected_rows(spec) if any(r.error_code in FOLLOWING for r in rejected.values()) else {}
        for key, row in sorted(rejected.items()):
            if row.error_code in RESOLVABLE:
                blocked[(module, key)] = row.error_code
                own.setdefault(row.error_code, []).append(key)
            elif row.error_code in FOLLOWING and key in expected:
                target = _pointed_at(spec, expected[key], row.error_field)
                root = blocked.get(target) if target else None
                if root:
                    blocked[(module, key)] = root
                    following.setdefault(root, []).append(key)
        for code, keys in sorted(own.items()):
            if code != "DUPLICATE_DATA":
                lines.append(f"{module}: {len(keys)} row(s) rejected as {code} ({_ids(keys)}): {RESOLVABLE[code]}")
        for code, keys in sorted(following.items()):
            lines.append(f"{module}: {len(keys)} row(s) rejected with a record refused as {code} ({_ids(keys)}): "
                         f"{RESOLVABLE[code]}")
    return lines


def _pointed_at(spec: Any, row: dict, column: str | None) -> tuple[str, str] | None:
    """(module, key) of the record a rejected row's lookup or parent column names."""
    if not column or row.get(column) in (None, ""):
        return None
    if column in spec.lookups:
        return spec.lookups[column], str(row[column])
    if column == spec.parent_column:
        module = (row.get(spec.parent_module_column) if spec.parent_module_column else None) or spec.parent_module
        return (module, str(row[column])) if module else None
    return None


def _ids(keys: list[str]) -> str:
    return ", ".join(keys[:SHOWN]) + (", ..." if len(keys) > SHOWN else "")
