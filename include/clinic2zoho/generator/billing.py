"""A chunk's insurance plans (primary, sometimes secondary, rarely tertiary) and the claims billed
on most completed visits, each to the patient's primary carrier or self-pay."""

from __future__ import annotations

import numpy as np

from clinic2zoho.generator import pools
from clinic2zoho.generator.cells import DATE_POOL, EXPORT_DAY, datetimes, pick
from clinic2zoho.generator.columns import COLUMNS, UNKNOWN_PATIENT
from clinic2zoho.generator.export_state import Chunk
from clinic2zoho.generator.model import InjectedValue
from clinic2zoho.generator.patients import ChunkPatients
from clinic2zoho.generator.visits import ChunkVisits


def write_insurance_plans(chunk: Chunk, patients: ChunkPatients) -> dict[int, str]:
    """Returns the primary carrier by the patient's position in the chunk (the claims' payer)."""
    rng, n = chunk.rng, chunk.size
    status, created, birth, first, last = (patients.status, patients.created, patients.birth, patients.first,
                                           patients.last)
    insured = (status <= 2) & (rng.random(n) < 0.88)
    n_plans = insured.astype(np.int64) + (insured & (rng.random(n) < 0.3)) + (insured & (rng.random(n) < 0.03))
    carrier0 = rng.integers(0, len(pools.CARRIERS), n)
    pidx = np.repeat(np.arange(n), n_plans)
    rank = np.arange(len(pidx)) - np.repeat(np.cumsum(n_plans) - n_plans, n_plans)
    m = len(pidx)
    carrier = (carrier0[pidx] + rank * 3) % len(pools.CARRIERS)
    eff = np.maximum(created[pidx] - rng.integers(0, 730, m), birth[pidx])
    ends = rng.random(m) < 0.2
    term = np.minimum(eff + rng.integers(180, 2000, m), EXPORT_DAY + 365)
    is_child = (EXPORT_DAY - birth[pidx]) < 18 * 365
    self_sub = (rng.random(m) < 0.8) & ~is_child
    guardian = rng.integers(0, len(pools.FEMALE_FIRST), m)
    policy = rng.integers(100_000_000, 999_999_999, m)
    group = rng.integers(10_000, 99_999, m)
    chunk.state.files["insurance_plans"].write([
        chunk.state.take_ids("insurance_plans", "IN", 8, m),
        [patients.ids[i] for i in pidx.tolist()],
        [("primary", "secondary", "tertiary")[r] for r in rank.tolist()],
        [pools.CARRIERS[c] for c in carrier.tolist()],
        [f"{pools.CARRIERS[c][:3].upper().replace(' ', 'X')}{p}" for c, p in zip(carrier.tolist(), policy.tolist())],
        [f"GRP-{g}" if g % 4 else "" for g in group.tolist()],
        [pools.COVERAGE_TYPES[c % len(pools.COVERAGE_TYPES)] for c in (carrier * 7 + rank).tolist()],
        [f"{first[i]} {last[i]}" if s else f"{pools.FEMALE_FIRST[g]} {last[i]}"
         for i, s, g in zip(pidx.tolist(), self_sub.tolist(), guardian.tolist())],
        [DATE_POOL[d] for d in eff.tolist()],
        [DATE_POOL[d] if e else "" for d, e in zip(term.tolist(), ends.tolist())],
    ])
    return {i: pools.CARRIERS[c] for i, c, r in zip(pidx.tolist(), carrier.tolist(), rank.tolist()) if r == 0}


def write_claims(chunk: Chunk, patients: ChunkPatients, visits: ChunkVisits, payer_of: dict[int, str]) -> None:
    """On most completed visits, CPT codes only; a few name a patient missing from patients.csv."""
    rng, completed = chunk.rng, visits.completed
    cidx = completed[rng.random(len(completed)) < 0.88]
    m = len(cidx)
    proc = rng.integers(0, 13, m)  # CPT codes only
    billed = np.array([p[3] for p in pools.PROCEDURES])[proc] * rng.integers(1, 3, m)
    cstatus = rng.choice(len(pools.CLAIM_STATUSES), m, p=pools.CLAIM_STATUS_WEIGHTS)
    share = rng.random(m)
    paid = np.select(
        [cstatus == 3, cstatus == 4, cstatus == 7],
        [np.where(share < 0.7, billed, np.round(billed * (0.6 + 0.4 * share), 2)),
         np.round(billed * (0.3 + 0.5 * share), 2), np.round(billed * 0.5 * share, 2)],
        0.0,
    )
    balance = np.where(cstatus == 7, 0.0, np.round(billed - paid, 2))
    sub_day = visits.day[cidx] + rng.integers(1, 15, m)
    cpat = visits.patient[cidx]
    ccols = {
        "claim_id": chunk.state.take_ids("claims", "CLM", 8, m),
        "patient_id": [patients.ids[i] for i in cpat.tolist()],
        "appointment_id": [visits.ids[i] for i in cidx.tolist()],
        "provider_id": [visits.columns["provider_id"][i] for i in cidx.tolist()],
        "service_date": [visits.visit_dates[i] for i in cidx.tolist()],
        "cpt_code": [pools.PROCEDURES[p][1] for p in proc.tolist()],
        "amount_billed": [f"{v:.2f}" for v in billed.tolist()],
        "amount_paid": [f"{v:.2f}" for v in paid.tolist()],
        "balance": [f"{v:.2f}" for v in balance.tolist()],
        "payer": [payer_of.get(i, "Self-pay") for i in cpat.tolist()],
        "status": [pools.CLAIM_STATUSES[s] for s in cstatus.tolist()],
        "submitted_at": ["" if s == 0 else d for s, d in
                         zip(cstatus.tolist(), datetimes(sub_day, rng.integers(8 * 60, 18 * 60, m)))],
    }
    if chunk.state.defects and m:
        for i in pick(rng, np.arange(m), chunk.quota(0.00005, 1, m)).tolist():
            ccols["patient_id"][i] = UNKNOWN_PATIENT
            chunk.state.cases.orphans.append(InjectedValue("claims", ccols["claim_id"][i], "patient_id",
                                                           UNKNOWN_PATIENT, "unknown_patient"))
    chunk.state.files["claims"].write([ccols[c] for c in COLUMNS["claims"]])
