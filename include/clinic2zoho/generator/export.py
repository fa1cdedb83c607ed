"""The generic clinic export generator (docs/generic_export.md).

Rows are built a chunk of patients at a time with numpy (random draws, repeats, pool lookups) and
written with csv.writer, so a million patients (~10 million rows) takes minutes and memory stays
flat. Each chunk has its own random stream derived from (seed, chunk number) and the chunk size is
fixed, so the same seed and size always give the same bytes."""

from __future__ import annotations

import csv
import functools
import json
import math
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clinic2zoho.generator import content, pools
from clinic2zoho.generator.communications import PatientFacts, VisitFacts, communication_columns
from clinic2zoho.generator.consent import consent_columns
from clinic2zoho.generator.model import (
    DuplicatePair,
    GeneratedExport,
    InjectedCases,
    InjectedValue,
    MalformedRow,
)
from clinic2zoho.generator.workflows import WORKFLOWS
from clinic2zoho.zoho.facts import ATTACHMENT_MAX_BYTES, NOTE_CONTENT_MAX_CHARS

CHUNK_PATIENTS = 25_000
DOCUMENT_CAP = 10_000  # document rows (and files) in one export: attachments are a small share
LONG_NOTE_CHARS = NOTE_CONTENT_MAX_CHARS  # a few notes are longer than Zoho keeps

COLUMNS: dict[str, list[str]] = {
    "clinics": ["clinic_id", "name", "phone", "email", "website", "address_line", "city", "state",
                "postal_code"],
    "providers": ["provider_id", "clinic_id", "first_name", "last_name", "email", "npi", "specialty",
                  "phone", "status"],
    "referral_sources": ["referral_source_id", "name", "category"],
    "patients": ["patient_id", "clinic_id", "first_name", "last_name", "birth_date", "sex", "email",
                 "phone", "address_line", "city", "state", "postal_code", "status",
                 "referral_source_id", "primary_provider_id", "created_at", "updated_at",
                 "email_opt_out", "sms_opt_out", "preferred_contact_method"],
    "appointments": ["appointment_id", "patient_id", "provider_id", "clinic_id", "visit_date",
                     "start_time", "end_time", "appointment_type", "reason", "outcome", "created_at",
                     "updated_at"],
    "insurance_plans": ["plan_id", "patient_id", "priority", "carrier", "policy_number", "group_id",
                        "coverage_type", "subscriber_name", "effective_date", "termination_date"],
    "claims": ["claim_id", "patient_id", "appointment_id", "provider_id", "service_date", "cpt_code",
               "amount_billed", "amount_paid", "balance", "payer", "status", "submitted_at"],
    "treatments": ["treatment_id", "patient_id", "appointment_id", "provider_id", "code_system", "code",
                   "description", "treatment_date", "outcome"],
    "clinical_notes": ["note_id", "patient_id", "appointment_id", "provider_id", "note_date",
                       "note_type", "content_format", "content"],
    "documents": ["document_id", "patient_id", "file_name", "file_path", "mime_type", "size_bytes",
                  "document_type", "created_at"],
    "care_programs": ["program_id", "name", "description", "start_date", "coordinator_provider_id"],
    "program_enrollments": ["enrollment_id", "program_id", "patient_id", "enrolled_on", "role"],
    "communications": ["communication_id", "patient_id", "provider_id", "channel", "direction", "started_at",
                       "duration_seconds", "subject", "body", "outcome"],
}
KEYS = {entity: cols[0] for entity, cols in COLUMNS.items()}

# Values a real export holds where a valid one belongs (dates, emails, phones).
BAD_DATES = ["1985-02-30", "13/07/1982", "unknown", "2001-00-12", "19790412"]
BAD_VISIT_DATES = ["2024-13-05", "31.01.2023", "TBD"]
BAD_EMAILS = ["maria.garcia@gmail", "jsmith at yahoo.com", "kim@@outlook.com", "lee@yahoo,com",
              "no email"]
BAD_PHONES = ["555-012", "call mother", "(617) 555-01234", "000-000-0000", "n/a"]
UNKNOWN_PROVIDER = "PR9999"
UNKNOWN_PATIENT = "PT9999999"

_EPOCH_DAY0 = np.datetime64("1920-01-01", "D")
_DAYS = np.arange(_EPOCH_DAY0, np.datetime64("2028-01-01", "D"))
_DATE_POOL: list[str] = np.datetime_as_string(_DAYS, unit="D").tolist()
_EXPORT_DAY = int((np.datetime64(pools.EXPORT_DATE, "D") - _EPOCH_DAY0).astype(int))
_LEGACY_DAY = int((np.datetime64("2018-01-01", "D") - _EPOCH_DAY0).astype(int))
_CRM_START_DAY = int((np.datetime64("2012-01-01", "D") - _EPOCH_DAY0).astype(int))
_TIME_POOL: list[str] = [f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60)]


@functools.lru_cache(maxsize=4096)
def _fold(text: str) -> str:
    """An email-safe form of a name: accents stripped, lower case, letters only."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalpha())


def _typo(text: str, rng: np.random.Generator) -> str:
    """One keyboard slip: a dropped, doubled, swapped or replaced letter."""
    if len(text) < 3:
        return text + text[-1]
    i = int(rng.integers(1, len(text) - 1))
    op = int(rng.integers(0, 4))
    if op == 0:
        return text[:i] + text[i + 1:]
    if op == 1:
        return text[:i] + text[i] + text[i:]
    if op == 2:
        return text[:i - 1] + text[i] + text[i - 1] + text[i + 1:]
    letter = "aeiou"[int(rng.integers(0, 5))]
    return text[:i] + (letter if letter != text[i] else "y") + text[i + 1:]


def _phone(area: int, exchange: int, line: int, style: int) -> str:
    a = pools.AREA_CODES[area]
    return (f"({a}) {exchange}-{line:04d}", f"{a}-{exchange}-{line:04d}",
            f"+1 {a} {exchange} {line:04d}", f"{a}{exchange}{line:04d}")[style]


def _pick(rng: np.random.Generator, candidates: np.ndarray, k: int) -> np.ndarray:
    k = min(k, len(candidates))
    if k <= 0:
        return np.array([], dtype=np.int64)
    return np.sort(rng.choice(candidates, size=k, replace=False))


def _dt(days: np.ndarray, minutes: np.ndarray) -> list[str]:
    dates = _DATE_POOL
    times = _TIME_POOL
    return [f"{dates[d]} {times[m]}:00" for d, m in zip(days.tolist(), minutes.tolist())]


class _EntityFile:
    """One entity CSV, counting the records written (the source_row of the next one is count+1)."""

    def __init__(self, path: Path, columns: list[str], encoding: str) -> None:
        self.path = path
        self.handle = open(path, "w", encoding=encoding, newline="", buffering=1 << 20)
        self.writer = csv.writer(self.handle, lineterminator="\n")
        self.writer.writerow(columns)
        self.count = 0

    def write(self, columns: list[list], reshape: dict[int, tuple] | None = None) -> int:
        """Write rows given column-wise; `reshape` replaces rows (by chunk position) with ragged ones.
        Returns the source_row of the first row written."""
        first = self.count + 1
        rows = zip(*columns)
        if reshape:
            rows = list(rows)
            for pos, row in reshape.items():
                rows[pos] = row
        self.writer.writerows(rows)
        self.count += len(columns[0]) if columns and columns[0] is not None else 0
        return first

    def close(self) -> None:
        self.handle.close()


@dataclass
class _Providers:
    ids: list[str]
    owners: np.ndarray  # indices of providers that own records (active ones)
    clinic_of: list[str]


class _Generator:
    def __init__(self, out_dir: Path, patients: int, seed: int, with_files: bool, defects: bool,
                 unresolved_providers: int, encoding: str) -> None:
        self.out_dir = out_dir
        self.export_dir = out_dir / "export"
        self.n_patients = patients
        self.seed = seed
        self.with_files = with_files
        self.defects = defects
        self.unresolved = unresolved_providers
        self.encoding = encoding
        self.cases = InjectedCases()
        self.files_written = 0
        self.next_id = {entity: 1 for entity in COLUMNS}
        self.documents_left = min(DOCUMENT_CAP, max(1, math.ceil(patients * 0.1))) if patients else 0

    def rng(self, *stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, *stream])

    def take_ids(self, entity: str, prefix: str, width: int, n: int) -> list[str]:
        start = self.next_id[entity]
        self.next_id[entity] = start + n
        return [f"{prefix}{i:0{width}d}" for i in range(start, start + n)]

    # --- small reference entities -------------------------------------------------------------

    def write_reference(self, files: dict[str, _EntityFile]) -> _Providers:
        files["clinics"].write([list(col) for col in zip(*pools.CLINICS)])
        files["referral_sources"].write([list(col) for col in zip(*pools.REFERRAL_SOURCES)])

        rng = self.rng(1)
        n = max(8, min(400, math.ceil(self.n_patients / 250)))
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
        unresolved = set(sorted(no_email)[: self.unresolved])
        ghost_no_email = sorted(inactive)[0]

        emails: list[str] = []
        staff: dict[int, str] = {}
        seen: set[str] = set()
        for i in range(n):
            local = f"{_fold(first[i])}.{_fold(last[i])}"
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
        phone = [_phone(int(a), int(e), int(x), 0) for a, e, x in
                 zip(rng.integers(0, len(pools.AREA_CODES), n), rng.integers(200, 999, n),
                     rng.integers(0, 9999, n))]
        files["providers"].write([
            ids, clinic_of, first, last, emails, [str(v) for v in npi.tolist()],
            [pools.SPECIALTIES[int(s)] for s in specialty], phone,
            ["inactive" if i in inactive else "active" for i in range(n)],
        ])

        overrides = {ids[i]: staff[i] for i in sorted(no_email - unresolved)}
        overrides[ids[changed]] = staff[changed]
        self.cases.providers_without_email = sorted(ids[i] for i in no_email | {ghost_no_email})
        self.cases.providers_not_in_zoho = sorted(ids[i] for i in inactive | unresolved)
        self.cases.email_overrides = dict(sorted(overrides.items()))
        self.cases.unresolved_providers = sorted(ids[i] for i in unresolved)

        users = [{"id": "5725767000000225001", "email": f"admin@{pools.STAFF_DOMAIN}",
                  "full_name": "Clinic Administrator", "status": "active"}]
        for i in active:
            if i in unresolved:
                continue
            users.append({"id": str(5725767000000226001 + 10 * i), "email": staff[i],
                          "full_name": f"{first[i]} {last[i]}", "status": "active"})
        (self.out_dir / "zoho_users.json").write_text(json.dumps(users, indent=1, ensure_ascii=False),
                                                      encoding="utf-8")
        with open(self.out_dir / "provider_email_overrides.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["provider_id", "email"])
            w.writerows(self.cases.email_overrides.items())

        owners = np.array(active, dtype=np.int64)
        coord = rng.choice(owners, len(pools.CARE_PROGRAMS))
        start = rng.integers(_CRM_START_DAY, _EXPORT_DAY - 400, len(pools.CARE_PROGRAMS))
        files["care_programs"].write([
            [p[0] for p in pools.CARE_PROGRAMS], [p[1] for p in pools.CARE_PROGRAMS],
            [p[2] for p in pools.CARE_PROGRAMS], [_DATE_POOL[int(d)] for d in start],
            [ids[int(c)] for c in coord],
        ])
        return _Providers(ids=ids, owners=owners, clinic_of=clinic_of)

    # --- one chunk of patients and everything that hangs off them -----------------------------

    def write_chunk(self, files: dict[str, _EntityFile], prov: _Providers, chunk: int, n: int) -> None:
        rng = self.rng(2, chunk)
        first_chunk = chunk == 0
        cases = self.cases

        def quota(rate: float, floor: int, of: int) -> int:
            k = round(rate * of)
            return max(k, floor) if first_chunk else k

        # patients
        status = rng.choice(len(pools.PATIENT_STATUSES), n, p=pools.PATIENT_STATUS_WEIGHTS)
        female = rng.random(n) < 0.52
        fi = rng.integers(0, len(pools.FEMALE_FIRST), n)
        mi = rng.integers(0, len(pools.MALE_FIRST), n)
        first = [pools.FEMALE_FIRST[a] if f else pools.MALE_FIRST[b]
                 for f, a, b in zip(female.tolist(), fi.tolist(), mi.tolist())]
        last_idx = rng.integers(0, len(pools.LAST_NAMES), n)
        last = [pools.LAST_NAMES[i] for i in last_idx.tolist()]
        birth = _EXPORT_DAY - rng.integers(0, 95 * 365, n)
        created = np.maximum(birth, rng.integers(_CRM_START_DAY, _EXPORT_DAY - 1, n))
        lead = status >= 3  # Prospect, Referral Inquiry
        recent = rng.integers(_EXPORT_DAY - 700, _EXPORT_DAY - 1, n)
        created = np.where(lead, np.maximum(created, recent), created)
        updated = created + (rng.random(n) * (_EXPORT_DAY - created)).astype(np.int64)
        has_email = rng.random(n) < 0.7
        mail_no = rng.integers(1, 99, n)
        domain = rng.integers(0, len(pools.EMAIL_DOMAINS), n)
        email = [f"{_fold(f)}.{_fold(ln)}{k}@{pools.EMAIL_DOMAINS[d]}" if h else ""
                 for f, ln, k, d, h in zip(first, last, mail_no.tolist(), domain.tolist(), has_email.tolist())]
        has_phone = rng.random(n) < 0.88
        area = rng.integers(0, len(pools.AREA_CODES), n)
        exch = rng.integers(200, 999, n)
        line = rng.integers(0, 9999, n)
        style = rng.choice(4, n, p=[0.55, 0.25, 0.1, 0.1])
        phone = [_phone(a, e, x, s) if h else "" for a, e, x, s, h in
                 zip(area.tolist(), exch.tolist(), line.tolist(), style.tolist(), has_phone.tolist())]
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
            "patient_id": self.take_ids("patients", "PT", 7, n),
            "clinic_id": [pools.CLINICS[c][0] for c in clinic.tolist()],
            "first_name": first, "last_name": last,
            "birth_date": [_DATE_POOL[d] for d in birth.tolist()],
            "sex": ["F" if f else "M" for f in female.tolist()],
            "email": email, "phone": phone, "address_line": address,
            "city": [pools.CITIES[c][0] for c in city], "state": [pools.CITIES[c][1] for c in city],
            "postal_code": [pools.CITIES[c][2] for c in city],
            "status": statuses, "referral_source_id": ref_id,
            "primary_provider_id": [prov.ids[p] if h else "" for p, h in zip(primary.tolist(), has_primary.tolist())],
            "created_at": _dt(created, rng.integers(7 * 60, 19 * 60, n)),
            "updated_at": _dt(updated, rng.integers(7 * 60, 19 * 60, n)),
            # drawn from a stream of their own: the columns above stay the same for a seed
            **consent_columns(self.rng(3, chunk), has_email, has_phone),
        }
        pids = pcols["patient_id"]

        # duplicates: originals with a phone, added again at the end of the chunk
        patient_like = np.flatnonzero((status <= 1) & has_phone)
        dup_orig = _pick(rng, patient_like, quota(0.01, 4, n) if n >= 8 else 0)
        kinds = ["typo_last_name", "swapped_names", "typo_first_name", "case_and_spacing"]
        dup_rows: list[list[str]] = []
        if len(dup_orig):
            dup_ids = self.take_ids("patients", "PT", 7, len(dup_orig))
            for j, (o, did) in enumerate(zip(dup_orig.tolist(), dup_ids)):
                kind = kinds[j % len(kinds)]
                row = {c: pcols[c][o] for c in pcols}
                row["patient_id"] = did
                if kind == "typo_last_name":
                    row["last_name"] = _typo(row["last_name"], rng)
                elif kind == "typo_first_name":
                    row["first_name"] = _typo(row["first_name"], rng)
                    row["email"] = ""
                elif kind == "swapped_names":
                    row["first_name"], row["last_name"] = row["last_name"], row["first_name"]
                else:
                    row["first_name"] = row["first_name"].upper() + " "
                    row["last_name"] = " " + row["last_name"].upper()
                    row["email"] = row["email"].upper()
                # the same phone number, typed the way the front desk types it
                row["phone"] = _phone(int(area[o]), int(exch[o]), int(line[o]), (int(style[o]) + 1 + j) % 4)
                row["status"] = "Prospect" if j % 2 else row["status"]
                row["primary_provider_id"] = "" if j % 2 else row["primary_provider_id"]
                day = int(min(_EXPORT_DAY - 1, updated[o] + 30 + j))
                row["created_at"] = row["updated_at"] = f"{_DATE_POOL[day]} 10:{j % 60:02d}:00"
                dup_rows.append([row[c] for c in COLUMNS["patients"]])
                cases.duplicate_pairs.append(DuplicatePair(pids[o], did, kind))

        # invalid values, on patients that are not duplicate originals
        if self.defects:
            free = np.setdiff1d(np.arange(n), dup_orig)
            for column, bad, reason, rate, floor in (
                ("birth_date", BAD_DATES, "invalid_date", 0.0003, 2),
                ("email", BAD_EMAILS, "invalid_email", 0.0005, 2),
                ("phone", BAD_PHONES, "invalid_phone", 0.0005, 2),
            ):
                picked = _pick(rng, free, quota(rate, floor, n))
                free = np.setdiff1d(free, picked)
                for k, i in enumerate(picked.tolist()):
                    value = bad[(k + chunk) % len(bad)]
                    pcols[column][i] = value
                    cases.invalid_values.append(InjectedValue("patients", pids[i], column, value, reason))

        files["patients"].write([pcols[c] for c in COLUMNS["patients"]])
        if dup_rows:
            files["patients"].write([list(c) for c in zip(*dup_rows)])

        # insurance plans: primary, sometimes secondary, rarely tertiary
        insured = (status <= 2) & (rng.random(n) < 0.88)
        n_plans = insured.astype(np.int64) + (insured & (rng.random(n) < 0.3)) + (insured & (rng.random(n) < 0.03))
        carrier0 = rng.integers(0, len(pools.CARRIERS), n)
        pidx = np.repeat(np.arange(n), n_plans)
        rank = np.arange(len(pidx)) - np.repeat(np.cumsum(n_plans) - n_plans, n_plans)
        m = len(pidx)
        carrier = (carrier0[pidx] + rank * 3) % len(pools.CARRIERS)
        eff = np.maximum(created[pidx] - rng.integers(0, 730, m), birth[pidx])
        ends = rng.random(m) < 0.2
        term = np.minimum(eff + rng.integers(180, 2000, m), _EXPORT_DAY + 365)
        is_child = (_EXPORT_DAY - birth[pidx]) < 18 * 365
        self_sub = (rng.random(m) < 0.8) & ~is_child
        guardian = rng.integers(0, len(pools.FEMALE_FIRST), m)
        policy = rng.integers(100_000_000, 999_999_999, m)
        group = rng.integers(10_000, 99_999, m)
        files["insurance_plans"].write([
            self.take_ids("insurance_plans", "IN", 8, m),
            [pids[i] for i in pidx.tolist()],
            [("primary", "secondary", "tertiary")[r] for r in rank.tolist()],
            [pools.CARRIERS[c] for c in carrier.tolist()],
            [f"{pools.CARRIERS[c][:3].upper().replace(' ', 'X')}{p}" for c, p in zip(carrier.tolist(), policy.tolist())],
            [f"GRP-{g}" if g % 4 else "" for g in group.tolist()],
            [pools.COVERAGE_TYPES[c % len(pools.COVERAGE_TYPES)] for c in (carrier * 7 + rank).tolist()],
            [f"{first[i]} {last[i]}" if s else f"{pools.FEMALE_FIRST[g]} {last[i]}"
             for i, s, g in zip(pidx.tolist(), self_sub.tolist(), guardian.tolist())],
            [_DATE_POOL[d] for d in eff.tolist()],
            [_DATE_POOL[d] if e else "" for d, e in zip(term.tolist(), ends.tolist())],
        ])
        payer_of = {i: pools.CARRIERS[c] for i, c, r in zip(pidx.tolist(), carrier.tolist(), rank.tolist()) if r == 0}

        # appointments: none for prospects and referral inquiries
        lam = np.array([4.5, 2.5, 3.0, 0.0, 0.0])[status]
        n_appt = rng.poisson(lam)
        aidx = np.repeat(np.arange(n), n_appt)
        m = len(aidx)
        lo = created[aidx]
        hi = np.where(status[aidx] == 0, _EXPORT_DAY + 90, _EXPORT_DAY - 200)
        hi = np.maximum(hi, lo + 1)
        day = lo + (rng.random(m) * (hi - lo)).astype(np.int64)
        future = day > _EXPORT_DAY
        past_outcome = rng.choice(3, m, p=pools.PAST_OUTCOME_WEIGHTS)
        outcome = np.where(future, 3, past_outcome)  # 3 = scheduled
        untimed = ~future & (((day < _LEGACY_DAY) & (rng.random(m) < 0.7)) | (rng.random(m) < 0.03))
        start = 8 * 60 + 15 * rng.integers(0, 38, m)
        end = start + np.array([15, 20, 30, 45, 60])[rng.integers(0, 5, m)]
        own_provider = has_primary[aidx] & (rng.random(m) < 0.75)
        provider = np.where(own_provider, primary[aidx], rng.choice(prov.owners, m))
        aclinic = np.where(rng.random(m) < 0.85, clinic[aidx], rng.integers(0, len(pools.CLINICS), m))
        booked = day - rng.integers(1, 60, m)
        visit_dates = [_DATE_POOL[d] for d in day.tolist()]
        starts = _dt(day, start)
        ends_ = _dt(day, end)
        for i in np.flatnonzero(untimed).tolist():
            starts[i] = ends_[i] = ""
        outcomes = [("completed", "no-show", "cancelled", "scheduled")[o] for o in outcome.tolist()]
        acols = {
            "appointment_id": self.take_ids("appointments", "AP", 8, m),
            "patient_id": [pids[i] for i in aidx.tolist()],
            "provider_id": [prov.ids[p] for p in provider.tolist()],
            "clinic_id": [pools.CLINICS[c][0] for c in aclinic.tolist()],
            "visit_date": visit_dates, "start_time": starts, "end_time": ends_,
            "appointment_type": [pools.APPOINTMENT_TYPES[t] for t in rng.integers(0, len(pools.APPOINTMENT_TYPES), m).tolist()],
            "reason": [pools.REASONS[t] for t in rng.integers(0, len(pools.REASONS), m).tolist()],
            "outcome": outcomes,
            "created_at": _dt(booked, rng.integers(8 * 60, 18 * 60, m)),
            "updated_at": _dt(np.where(future, booked, day), np.where(future, 9 * 60, end)),
        }
        aids = acols["appointment_id"]
        ragged: dict[int, tuple] = {}
        completed = np.flatnonzero(outcome == 0)
        if self.defects and m:
            # orphan: a visit by a provider missing from providers.csv
            for i in _pick(rng, np.flatnonzero(outcome == 1), quota(0.00005, 1, m)).tolist():
                acols["provider_id"][i] = UNKNOWN_PROVIDER
                cases.orphans.append(InjectedValue("appointments", aids[i], "provider_id", UNKNOWN_PROVIDER,
                                                   "unknown_provider"))
            orphaned = {o.record_id for o in cases.orphans}
            cancelled = [i for i in np.flatnonzero(outcome == 2).tolist() if aids[i] not in orphaned]
            picked = _pick(rng, np.array(cancelled, dtype=np.int64), quota(0.0001, 2, m))
            for i in picked[:1].tolist():
                value = BAD_VISIT_DATES[chunk % len(BAD_VISIT_DATES)]
                acols["visit_date"][i] = value
                cases.invalid_values.append(InjectedValue("appointments", aids[i], "visit_date", value,
                                                          "invalid_date"))
            # ragged rows on cancelled visits (nothing refers to them): an unquoted comma in reason
            for i in picked[1:].tolist():
                row = [acols[c][i] for c in COLUMNS["appointments"]]
                row[8:9] = ["Rescheduled", " patient called"]
                ragged[i] = tuple(row)
        first_row = files["appointments"].write([acols[c] for c in COLUMNS["appointments"]], ragged)
        for i in sorted(ragged):
            cases.malformed_rows.append(MalformedRow("appointments", first_row + i, aids[i], "extra_field"))

        # claims on most completed visits
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
        sub_day = day[cidx] + rng.integers(1, 15, m)
        cpat = aidx[cidx]
        ccols = {
            "claim_id": self.take_ids("claims", "CLM", 8, m),
            "patient_id": [pids[i] for i in cpat.tolist()],
            "appointment_id": [aids[i] for i in cidx.tolist()],
            "provider_id": [acols["provider_id"][i] for i in cidx.tolist()],
            "service_date": [visit_dates[i] for i in cidx.tolist()],
            "cpt_code": [pools.PROCEDURES[p][1] for p in proc.tolist()],
            "amount_billed": [f"{v:.2f}" for v in billed.tolist()],
            "amount_paid": [f"{v:.2f}" for v in paid.tolist()],
            "balance": [f"{v:.2f}" for v in balance.tolist()],
            "payer": [payer_of.get(i, "Self-pay") for i in cpat.tolist()],
            "status": [pools.CLAIM_STATUSES[s] for s in cstatus.tolist()],
            "submitted_at": ["" if s == 0 else d for s, d in
                             zip(cstatus.tolist(), _dt(sub_day, rng.integers(8 * 60, 18 * 60, m)))],
        }
        if self.defects and m:
            for i in _pick(rng, np.arange(m), quota(0.00005, 1, m)).tolist():
                ccols["patient_id"][i] = UNKNOWN_PATIENT
                cases.orphans.append(InjectedValue("claims", ccols["claim_id"][i], "patient_id",
                                                   UNKNOWN_PATIENT, "unknown_patient"))
        files["claims"].write([ccols[c] for c in COLUMNS["claims"]])

        # treatments on completed visits, sometimes two
        tn = (rng.random(len(completed)) < 0.6).astype(np.int64) + (rng.random(len(completed)) < 0.1)
        tidx = np.repeat(completed, tn)
        m = len(tidx)
        proc = rng.integers(0, len(pools.PROCEDURES), m)
        tcols = [
            self.take_ids("treatments", "TR", 8, m),
            [pids[i] for i in aidx[tidx].tolist()],
            [aids[i] for i in tidx.tolist()],
            [acols["provider_id"][i] for i in tidx.tolist()],
            [pools.PROCEDURES[p][0] for p in proc.tolist()],
            [pools.PROCEDURES[p][1] for p in proc.tolist()],
            [pools.PROCEDURES[p][2] for p in proc.tolist()],
            [visit_dates[i] for i in tidx.tolist()],
            [pools.TREATMENT_OUTCOMES[o] for o in rng.integers(0, len(pools.TREATMENT_OUTCOMES), m).tolist()],
        ]
        tragged: dict[int, tuple] = {}
        if self.defects and m:
            for i in _pick(rng, np.arange(m), quota(0.00003, 1, m)).tolist():
                tragged[i] = tuple(col[i] for col in tcols[:-2])  # the last two fields are missing
        first_row = files["treatments"].write(tcols, tragged)
        for i in sorted(tragged):
            cases.malformed_rows.append(MalformedRow("treatments", first_row + i, tcols[0][i], "missing_field"))

        # clinical notes on some completed visits: HTML, RTF or plain text
        nidx = completed[rng.random(len(completed)) < 0.15]
        m = len(nidx)
        fmt = rng.choice(3, m, p=[0.45, 0.3, 0.25])
        fmts = [("html", "rtf", "text")[f] for f in fmt.tolist()]
        k = rng.integers(0, 1000, m)
        sys_ = rng.integers(100, 160, m)
        dia = rng.integers(60, 100, m)
        pulse = rng.integers(52, 110, m)
        body = [content.note_body(f, kk, s, d, p) for f, kk, s, d, p in
                zip(fmts, k.tolist(), sys_.tolist(), dia.tolist(), pulse.tolist())]
        note_ids = self.take_ids("clinical_notes", "NT", 8, m)
        for i in _pick(rng, np.arange(m), quota(0.0002, 2, m)).tolist():
            body[i] = content.long_note_body(fmts[i], int(k[i]), LONG_NOTE_CHARS)
            cases.long_notes.append(note_ids[i])
        note_minute = np.where(untimed[nidx], 17 * 60 + 30, end[nidx] + 5)
        ncols = [
            note_ids,
            [pids[i] for i in aidx[nidx].tolist()],
            [aids[i] for i in nidx.tolist()],
            [acols["provider_id"][i] for i in nidx.tolist()],
            _dt(day[nidx], note_minute),
            [pools.NOTE_TYPES[t] for t in rng.integers(0, len(pools.NOTE_TYPES), m).tolist()],
            fmts, body,
        ]
        if self.defects and m:
            for i in _pick(rng, np.arange(m), quota(0.00005, 1, m)).tolist():
                ncols[1][i] = UNKNOWN_PATIENT
                cases.orphans.append(InjectedValue("clinical_notes", note_ids[i], "patient_id",
                                                   UNKNOWN_PATIENT, "unknown_patient"))
        files["clinical_notes"].write(ncols)

        # documents (a capped share; files are sparse)
        eligible = np.flatnonzero(status <= 2)
        m = min(self.documents_left, len(eligible), math.ceil(n * 0.1))
        if m > 0:
            self.documents_left -= m
            didx = rng.choice(eligible, m)
            dtype = rng.integers(0, len(pools.DOCUMENT_TYPES), m)
            size = np.minimum(np.exp(rng.normal(12.5, 1.2, m)).astype(np.int64) + 2048, ATTACHMENT_MAX_BYTES)
            doc_ids = self.take_ids("documents", "DOC", 7, m)
            big = _pick(rng, np.arange(m), quota(0.001, 2, m))
            for i in big.tolist():
                size[i] = ATTACHMENT_MAX_BYTES + int(rng.integers(1, 35 * 1024 * 1024))
                cases.oversized_documents.append(doc_ids[i])
            dday = np.minimum(created[didx] + rng.integers(0, 2000, m), _EXPORT_DAY - 1)
            names = [f"{pools.DOCUMENT_TYPES[t][1]}_{_DATE_POOL[d]}{pools.DOCUMENT_TYPES[t][2]}"
                     for t, d in zip(dtype.tolist(), dday.tolist())]
            paths = [f"files/{i}_{name}" for i, name in zip(doc_ids, names)]
            mimes = [pools.DOCUMENT_TYPES[t][3] for t in dtype.tolist()]
            files["documents"].write([
                doc_ids, [pids[i] for i in didx.tolist()], names, paths, mimes,
                [str(s) for s in size.tolist()], [pools.DOCUMENT_TYPES[t][0] for t in dtype.tolist()],
                _dt(dday, rng.integers(8 * 60, 18 * 60, m)),
            ])
            if self.with_files:
                for doc_id, path, mime, s in zip(doc_ids, paths, mimes, size.tolist()):
                    content.write_document(self.export_dir / path, mime, s, doc_id)
                    self.files_written += 1

        # program enrolments: many-to-many patients <-> care programs
        enrolled = (status == 0) & (rng.random(n) < 0.12)
        en = enrolled.astype(np.int64) + (enrolled & (rng.random(n) < 0.25))
        eidx = np.repeat(np.arange(n), en)
        m = len(eidx)
        erank = np.arange(m) - np.repeat(np.cumsum(en) - en, en)
        p0 = rng.integers(0, len(pools.CARE_PROGRAMS), n)[eidx]
        prog = (p0 + erank * (1 + rng.integers(0, len(pools.CARE_PROGRAMS) - 1, m))) % len(pools.CARE_PROGRAMS)
        on = np.minimum(created[eidx] + rng.integers(0, 1500, m), _EXPORT_DAY - 1)
        files["program_enrollments"].write([
            self.take_ids("program_enrollments", "EN", 7, m),
            [pools.CARE_PROGRAMS[p][0] for p in prog.tolist()],
            [pids[i] for i in eidx.tolist()],
            [_DATE_POOL[d] for d in on.tolist()],
            [pools.ENROLLMENT_ROLES[r] for r in rng.integers(0, len(pools.ENROLLMENT_ROLES), m).tolist()],
        ])

        # the communication log: a stream of its own, so the files above stay the same for a seed
        timed = np.flatnonzero(~untimed)
        comms = communication_columns(self.rng(4, chunk), PatientFacts(
            ids=pids, is_lead=lead, created=created, has_email=has_email, has_phone=has_phone,
            email_opt_out=np.array(pcols["email_opt_out"]) == "true",
            sms_opt_out=np.array(pcols["sms_opt_out"]) == "true",
            prefers_sms=np.array(pcols["preferred_contact_method"]) == "sms",
            staff=pcols["primary_provider_id"],
        ), VisitFacts(patient=aidx[timed], day=day[timed], minute=start[timed],
                      provider=["" if acols["provider_id"][i] == UNKNOWN_PROVIDER else acols["provider_id"][i]
                                for i in timed.tolist()]), _EXPORT_DAY, _DATE_POOL)
        files["communications"].write([self.take_ids("communications", "COM", 8, len(comms["patient_id"])),
                                       *(comms[c] for c in COLUMNS["communications"][1:])])

    # --- the whole export ---------------------------------------------------------------------

    def run(self) -> GeneratedExport:
        if self.export_dir.exists():
            shutil.rmtree(self.export_dir)
        (self.export_dir / "files").mkdir(parents=True)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        files = {e: _EntityFile(self.export_dir / f"{e}.csv", cols, self.encoding) for e, cols in COLUMNS.items()}
        try:
            prov = self.write_reference(files)
            for chunk, start in enumerate(range(0, self.n_patients, CHUNK_PATIENTS)):
                self.write_chunk(files, prov, chunk, min(CHUNK_PATIENTS, self.n_patients - start))
        finally:
            for f in files.values():
                f.close()
        (self.export_dir / "workflows.json").write_text(json.dumps(WORKFLOWS, indent=1), encoding="utf-8")
        manifest = {
            "format": "clinic2zoho-generic",
            "version": 1,
            "clinic_name": pools.CLINIC_NAME,
            "timezone": pools.CLINIC_TIMEZONE,
            "document_url_base": pools.DOCUMENT_URL_BASE,
            "exported_at": pools.EXPORTED_AT,
            "encoding": self.encoding,
            "entities": {e: {"file": f"{e}.csv", "key": KEYS[e]} for e in COLUMNS},
            "custom_objects": [{"entity": "care_programs", "key": "program_id", "label": "Care Program"}],
            "relations": [{"entity": "program_enrollments", "type": "many_to_many",
                           "left": {"entity": "patients", "column": "patient_id"},
                           "right": {"entity": "care_programs", "column": "program_id"}}],
            "workflows": "workflows.json",
        }
        manifest_path = self.export_dir / "manifest.json"
        manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        result = GeneratedExport(
            out_dir=self.out_dir, export_dir=self.export_dir, manifest_path=manifest_path,
            zoho_users_path=self.out_dir / "zoho_users.json",
            overrides_path=self.out_dir / "provider_email_overrides.csv",
            cases_path=self.out_dir / "injected_cases.json",
            counts={e: f.count for e, f in files.items()},
            cases=self.cases, files_written=self.files_written,
        )
        result.write_cases()
        return result


def generate_export(out_dir: Path, patients: int, seed: int = 42, with_files: bool = True, *,
                    defects: bool = True, unresolved_providers: int = 0,
                    encoding: str = "utf-8") -> GeneratedExport:
    """Write a generic clinic export of `patients` patients under `out_dir/export/`, with the Zoho
    org's users (`zoho_users.json`), the provider-email overrides a clinic fills in
    (`provider_email_overrides.csv`) and the list of injected cases (`injected_cases.json`).

    `defects=False` leaves out malformed rows, invalid values and orphans (duplicates stay: they are
    data, not defects). `unresolved_providers=N` leaves N record-owning providers with no email
    anywhere, to break the owner gate on purpose. `encoding` may be e.g. "cp1252"."""
    if patients < 0:
        raise ValueError(f"patients must be >= 0, got {patients}")
    if encoding.lower().replace("-", "").replace("_", "") not in {"utf8", "utf8sig", "cp1252", "windows1252"}:
        raise ValueError(f"unsupported encoding {encoding!r}: use utf-8, utf-8-sig or cp1252")
    return _Generator(Path(out_dir), patients, seed, with_files, defects, unresolved_providers, encoding).run()
