"""A chunk's patients: the records, the duplicates a front desk enters (the same person again with
a typo, swapped names or other spacing, appended at the end of the chunk) and the invalid dates,
e-mails and phones planted on others. What the entities hanging off patients need of them is
returned as `ChunkPatients`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clinic2zoho.generator import pools
from clinic2zoho.generator.cells import CRM_START_DAY, DATE_POOL, EXPORT_DAY, datetimes, fold, phone, pick, typo
from clinic2zoho.generator.columns import BAD_DATES, BAD_EMAILS, BAD_PHONES, COLUMNS
from clinic2zoho.generator.consent import consent_columns
from clinic2zoho.generator.export_state import Chunk
from clinic2zoho.generator.model import DuplicatePair, InjectedValue
from clinic2zoho.generator.reference import Providers

DUPLICATE_KINDS = ["typo_last_name", "swapped_names", "typo_first_name", "case_and_spacing"]


@dataclass
class ChunkPatients:
    """The chunk's patients (arrays of one length, duplicates not included)."""

    ids: list[str]
    columns: dict[str, list[str]]  # the patients.csv columns as written
    status: np.ndarray  # index into pools.PATIENT_STATUSES
    first: list[str]
    last: list[str]
    birth: np.ndarray  # day numbers (cells' epoch)
    created: np.ndarray
    lead: np.ndarray  # Prospect / Referral Inquiry
    has_email: np.ndarray
    has_phone: np.ndarray
    clinic: np.ndarray  # index into pools.CLINICS
    primary: np.ndarray  # index into the providers
    has_primary: np.ndarray


@dataclass
class _Phones:
    area: np.ndarray
    exchange: np.ndarray
    line: np.ndarray
    style: np.ndarray


def write_patients(chunk: Chunk, prov: Providers) -> ChunkPatients:
    rng, n = chunk.rng, chunk.size
    status = rng.choice(len(pools.PATIENT_STATUSES), n, p=pools.PATIENT_STATUS_WEIGHTS)
    female = rng.random(n) < 0.52
    fi = rng.integers(0, len(pools.FEMALE_FIRST), n)
    mi = rng.integers(0, len(pools.MALE_FIRST), n)
    first = [pools.FEMALE_FIRST[a] if f else pools.MALE_FIRST[b]
             for f, a, b in zip(female.tolist(), fi.tolist(), mi.tolist())]
    last_idx = rng.integers(0, len(pools.LAST_NAMES), n)
    last = [pools.LAST_NAMES[i] for i in last_idx.tolist()]
    birth = EXPORT_DAY - rng.integers(0, 95 * 365, n)
    created = np.maximum(birth, rng.integers(CRM_START_DAY, EXPORT_DAY - 1, n))
    lead = status >= 3  # Prospect, Referral Inquiry
    recent = rng.integers(EXPORT_DAY - 700, EXPORT_DAY - 1, n)
    created = np.where(lead, np.maximum(created, recent), created)
    updated = created + (rng.random(n) * (EXPORT_DAY - created)).astype(np.int64)
    has_email = rng.random(n) < 0.7
    mail_no = rng.integers(1, 99, n)
    domain = rng.integers(0, len(pools.EMAIL_DOMAINS), n)
    email = [f"{fold(f)}.{fold(ln)}{k}@{pools.EMAIL_DOMAINS[d]}" if h else ""
             for f, ln, k, d, h in zip(first, last, mail_no.tolist(), domain.tolist(), has_email.tolist())]
    has_phone = rng.random(n) < 0.88
    phones = _Phones(rng.integers(0, len(pools.AREA_CODES), n), rng.integers(200, 999, n),
                     rng.integers(0, 9999, n), rng.choice(4, n, p=[0.55, 0.25, 0.1, 0.1]))
    phone_text = [phone(a, e, x, s) if h else "" for a, e, x, s, h in
                  zip(phones.area.tolist(), phones.exchange.tolist(), phones.line.tolist(),
                      phones.style.tolist(), has_phone.tolist())]
    house = rng.integers(1, 1999, n)
    street = rng.integers(0, len(pools.STREETS), n)
    unit = rng.integers(0, len(pools.UNITS), n)
    address = [f"{h} {pools.STREETS[s]}" + (f", {pools.UNITS[u]}" if pools.UNITS[u] else "")
               for h, s, u in zip(house.tolist(), street.tolist(), unit.tolist())]
    city = rng.integers(0, len(pools.CITIES), n).tolist()
    clinic = rng.integers(0, len(pools.CLINICS), n)
    has_ref = (rng.random(n) < 0.55) | (status == 4)
    ref = rng.integers(0, len(pools.REFERRAL_SOURCES), n)
    ref_id = [pools.REFERRAL_SOURCES[r][0] if h else "" for r, h in zip(ref.tolist(), has_ref.tolist())]
    primary = rng.choice(prov.owners, n)
    has_primary = np.where(lead, rng.random(n) < 0.3, rng.random(n) < 0.93)
    statuses = [pools.PATIENT_STATUSES[s] for s in status.tolist()]
    pcols = {
        "patient_id": chunk.state.take_ids("patients", "PT", 7, n),
        "clinic_id": [pools.CLINICS[c][0] for c in clinic.tolist()],
        "first_name": first, "last_name": last,
        "birth_date": [DATE_POOL[d] for d in birth.tolist()],
        "sex": ["F" if f else "M" for f in female.tolist()],
        "email": email, "phone": phone_text, "address_line": address,
        "city": [pools.CITIES[c][0] for c in city], "state": [pools.CITIES[c][1] for c in city],
        "postal_code": [pools.CITIES[c][2] for c in city],
        "status": statuses, "referral_source_id": ref_id,
        "primary_provider_id": [prov.ids[p] if h else "" for p, h in zip(primary.tolist(), has_primary.tolist())],
        "created_at": datetimes(created, rng.integers(7 * 60, 19 * 60, n)),
        "updated_at": datetimes(updated, rng.integers(7 * 60, 19 * 60, n)),
        # drawn from a stream of their own: the columns above stay the same for a seed
        **consent_columns(chunk.state.rng(3, chunk.number), has_email, has_phone),
    }
    patients = ChunkPatients(ids=pcols["patient_id"], columns=pcols, status=status, first=first, last=last,
                             birth=birth, created=created, lead=lead, has_email=has_email, has_phone=has_phone,
                             clinic=clinic, primary=primary, has_primary=has_primary)
    dup_orig, dup_rows = _duplicates(chunk, patients, phones, updated)
    if chunk.state.defects:
        _plant_invalid_values(chunk, patients, dup_orig)
    files = chunk.state.files
    files["patients"].write([pcols[c] for c in COLUMNS["patients"]])
    if dup_rows:
        files["patients"].write([list(c) for c in zip(*dup_rows)])
    return patients


def _duplicates(chunk: Chunk, patients: ChunkPatients, phones: _Phones,
                updated: np.ndarray) -> tuple[np.ndarray, list[list[str]]]:
    """Originals with a phone, entered again: (the originals' positions, the duplicate rows)."""
    rng, n, pcols, pids = chunk.rng, chunk.size, patients.columns, patients.ids
    patient_like = np.flatnonzero((patients.status <= 1) & patients.has_phone)
    dup_orig = pick(rng, patient_like, chunk.quota(0.01, 4, n) if n >= 8 else 0)
    dup_rows: list[list[str]] = []
    if len(dup_orig):
        dup_ids = chunk.state.take_ids("patients", "PT", 7, len(dup_orig))
        for j, (o, did) in enumerate(zip(dup_orig.tolist(), dup_ids)):
            kind = DUPLICATE_KINDS[j % len(DUPLICATE_KINDS)]
            row = {c: pcols[c][o] for c in pcols}
            row["patient_id"] = did
            if kind == "typo_last_name":
                row["last_name"] = typo(row["last_name"], rng)
            elif kind == "typo_first_name":
                row["first_name"] = typo(row["first_name"], rng)
                row["email"] = ""
            elif kind == "swapped_names":
                row["first_name"], row["last_name"] = row["last_name"], row["first_name"]
            else:
                row["first_name"] = row["first_name"].upper() + " "
                row["last_name"] = " " + row["last_name"].upper()
                row["email"] = row["email"].upper()
            # the same phone number, typed the way the front desk types it
            row["phone"] = phone(int(phones.area[o]), int(phones.exchange[o]), int(phones.line[o]),
                                 (int(phones.style[o]) + 1 + j) % 4)
            row["status"] = "Prospect" if j % 2 else row["status"]
            row["primary_provider_id"] = "" if j % 2 else row["primary_provider_id"]
            day = int(min(EXPORT_DAY - 1, updated[o] + 30 + j))
            row["created_at"] = row["updated_at"] = f"{DATE_POOL[day]} 10:{j % 60:02d}:00"
            dup_rows.append([row[c] for c in COLUMNS["patients"]])
            chunk.state.cases.duplicate_pairs.append(DuplicatePair(pids[o], did, kind))
    return dup_orig, dup_rows


def _plant_invalid_values(chunk: Chunk, patients: ChunkPatients, dup_orig: np.ndarray) -> None:
    """Invalid birth dates, e-mails and phones, on patients that are not duplicate originals."""
    free = np.setdiff1d(np.arange(chunk.size), dup_orig)
    for column, bad, reason, rate, floor in (
        ("birth_date", BAD_DATES, "invalid_date", 0.0003, 2),
        ("email", BAD_EMAILS, "invalid_email", 0.0005, 2),
        ("phone", BAD_PHONES, "invalid_phone", 0.0005, 2),
    ):
        picked = pick(chunk.rng, free, chunk.quota(rate, floor, chunk.size))
        free = np.setdiff1d(free, picked)
        for k, i in enumerate(picked.tolist()):
            value = bad[(k + chunk.number) % len(bad)]
            patients.columns[column][i] = value
            chunk.state.cases.invalid_values.append(InjectedValue("patients", patients.ids[i], column, value, reason))
