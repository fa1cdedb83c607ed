"""What the demo (`clinic2zoho migrate`, `--confirm-by demo`) decides on the duplicate pairs the
Data Quality Report says need a decision, the way a person reading the report would: a pair
scored at or above the decision threshold is one person, merged. Pairs linked through a shared
patient (A~B, B~C) are one person too. The survivor is the record with the most history (records
of the export hanging under it), then the smaller id (the older record where ids are sequential);
the others are merged into it. Only undecided pairs are decided. Left to a person (the gate
stops): a pair whose birth dates differ or are unknown (a parent and a child sharing a phone and an
e-mail score as high as one person typed twice), and a group holding a pair someone confirmed as
two different people or two patients that already have others merged into them. It never looks at
how the export was made."""

from __future__ import annotations

from dataclasses import dataclass

from clinic2zoho.quality.decisions import Decisions


@dataclass(frozen=True)
class DemoMerge:
    duplicate: str
    survivor: str
    duplicate_records: int
    survivor_records: int


def decide(pairs: list[dict], decisions: Decisions) -> tuple[list[DemoMerge], list[tuple[str, str]]]:
    """(merges to record, pairs left undecided) for `pairs` (quality.duplicate_candidates rows that
    need a decision), given the decisions recorded so far."""
    history: dict[str, int] = {}
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    todo, unsure = [], []
    for p in pairs:
        if decisions.decision(p["patient_id_1"], p["patient_id_2"]) is not None:
            continue
        if not p.get("same_birth_date"):
            unsure.append((p["patient_id_1"], p["patient_id_2"]))
            continue
        a, b = decisions.survivor(p["patient_id_1"]), decisions.survivor(p["patient_id_2"])
        history[a] = max(history.get(a, 0), int(p["linked_records_1"] or 0) if a == p["patient_id_1"] else 0)
        history[b] = max(history.get(b, 0), int(p["linked_records_2"] or 0) if b == p["patient_id_2"] else 0)
        todo.append((p["patient_id_1"], p["patient_id_2"]))
        parent[root(a)] = root(b)
    groups: dict[str, list[str]] = {}
    for member in parent:
        groups.setdefault(root(member), []).append(member)
    survivors_already = {row["surviving_patient_id"] for row in decisions.merges.values()}
    merges: list[DemoMerge] = []
    left: list[tuple[str, str]] = []
    for members in groups.values():
        members.sort(key=lambda m: (-history.get(m, 0), m))
        held_apart = any(decisions.decision(a, b) == "distinct" for i, a in enumerate(members) for b in members[i + 1:])
        if held_apart or sum(1 for m in members if m in survivors_already) > 1:
            left += [t for t in todo if decisions.survivor(t[0]) in members]
            continue
        survivor = next((m for m in members if m in survivors_already), members[0])
        merges += [DemoMerge(m, survivor, history.get(m, 0), history.get(survivor, 0))
                   for m in members if m != survivor]
    return sorted(merges, key=lambda m: m.duplicate), sorted(left + unsure)
