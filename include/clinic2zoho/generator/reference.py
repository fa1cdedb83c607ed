"""The small reference entities written before any patient: clinics, referral sources, providers
(with the Zoho org's users and the provider-email overrides a clinic fills in) and care programs.
Providers and care programs draw from one stream of their own, in that order."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass

import numpy as np

from clinic2zoho.generator import pools
from clinic2zoho.generator.cells import CRM_START_DAY, DATE_POOL, EXPORT_DAY, fold, phone
from clinic2zoho.generator.export_state import ExportState


@dataclass
class Providers:
    ids: list[str]
    owners: np.ndarray  # indices of providers that own records (active ones)
    clinic_of: list[str]


def write_clinics(state: ExportState) -> None:
    state.files["clinics"].write([list(col) for col in zip(*pools.CLINICS)])


def write_referral_sources(state: ExportState) -> None:
    state.files["referral_sources"].write([list(col) for col in zip(*pools.REFERRAL_SOURCES)])


def write_providers(state: ExportState, rng: np.random.Generator) -> Providers:
    """providers.csv, with who has no email, who moved mail domains and who left before the CRM
    recorded in the cases, then the org's users and the overrides that resolve them."""
    n = max(8, min(400, math.ceil(state.n_patients / 250)))
    ids = [f"PR{i:04d}" for i in range(1, n + 1)]
    female = rng.random(n) < 0.55
    first = [pools.FEMALE_FIRST[int(rng.integers(len(pools.FEMALE_FIRST)))] if f
             else pools.MALE_FIRST[int(rng.integers(len(pools.MALE_FIRST)))] for f in female]
    last = [pools.LAST_NAMES[int(i)] for i in rng.integers(0, len(pools.LAST_NAMES), n)]
    clinic_of = [pools.CLINICS[int(i)][0] for i in rng.integers(0, len(pools.CLINICS), n)]
    order = rng.permutation(n)
    n_inactive = max(2, round(n * 0.1))
    inactive = set(order[:n_inactive].tolist())  # left before the CRM: own no records
    active = [i for i in range(n) if i not in inactive]
    n_no_email = max(2, round(len(active) * 0.12))
    no_email = set(active[1:1 + n_no_email])  # provider 0 keeps its email (the changed one)
    changed = active[0]
    unresolved = set(sorted(no_email)[: state.unresolved])
    ghost_no_email = sorted(inactive)[0]

    emails: list[str] = []
    staff: dict[int, str] = {}
    seen: set[str] = set()
    for i in range(n):
        local = f"{fold(first[i])}.{fold(last[i])}"
        address = f"{local}@{pools.STAFF_DOMAIN}"
        if address in seen:
            address = f"{local}{i}@{pools.STAFF_DOMAIN}"
        seen.add(address)
        staff[i] = address
        if i in no_email or i == ghost_no_email:
            emails.append("")
        elif i == changed:
            emails.append(f"{local}@oldclinicmail.example")  # the clinic moved mail domains
        else:
            emails.append(address)

    npi = rng.integers(1_000_000_000, 1_999_999_999, n)
    specialty = rng.integers(0, len(pools.SPECIALTIES), n)
    phones = [phone(int(a), int(e), int(x), 0) for a, e, x in
              zip(rng.integers(0, len(pools.AREA_CODES), n), rng.integers(200, 999, n),
                  rng.integers(0, 9999, n))]
    state.files["providers"].write([
        ids, clinic_of, first, last, emails, [str(v) for v in npi.tolist()],
        [pools.SPECIALTIES[int(s)] for s in specialty], phones,
        ["inactive" if i in inactive else "active" for i in range(n)],
    ])

    cases = state.cases
    overrides = {ids[i]: staff[i] for i in sorted(no_email - unresolved)}
    overrides[ids[changed]] = staff[changed]
    cases.providers_without_email = sorted(ids[i] for i in no_email | {ghost_no_email})
    cases.providers_not_in_zoho = sorted(ids[i] for i in inactive | unresolved)
    cases.email_overrides = dict(sorted(overrides.items()))
    cases.unresolved_providers = sorted(ids[i] for i in unresolved)
    _write_org_users(state, [(staff[i], f"{first[i]} {last[i]}", i) for i in active if i not in unresolved])
    _write_email_overrides(state)
    return Providers(ids=ids, owners=np.array(active, dtype=np.int64), clinic_of=clinic_of)


def _write_org_users(state: ExportState, users: list[tuple[str, str, int]]) -> None:
    """zoho_users.json: the org's administrator and every provider Zoho knows (email, name, index)."""
    listed = [{"id": "5725767000000225001", "email": f"admin@{pools.STAFF_DOMAIN}",
               "full_name": "Clinic Administrator", "status": "active"}]
    for email, full_name, i in users:
        listed.append({"id": str(5725767000000226001 + 10 * i), "email": email,
                       "full_name": full_name, "status": "active"})
    (state.out_dir / "zoho_users.json").write_text(json.dumps(listed, indent=1, ensure_ascii=False),
                                                   encoding="utf-8")


def _write_email_overrides(state: ExportState) -> None:
    with open(state.out_dir / "provider_email_overrides.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["provider_id", "email"])
        w.writerows(state.cases.email_overrides.items())


def write_care_programs(state: ExportState, rng: np.random.Generator, prov: Providers) -> None:
    coord = rng.choice(prov.owners, len(pools.CARE_PROGRAMS))
    start = rng.integers(CRM_START_DAY, EXPORT_DAY - 400, len(pools.CARE_PROGRAMS))
    state.files["care_programs"].write([
        [p[0] for p in pools.CARE_PROGRAMS], [p[1] for p in pools.CARE_PROGRAMS],
        [p[2] for p in pools.CARE_PROGRAMS], [DATE_POOL[int(d)] for d in start],
        [prov.ids[int(c)] for c in coord],
    ])
