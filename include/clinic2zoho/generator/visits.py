"""A chunk's appointments and what is recorded on its completed visits: treatments and clinical
notes (HTML, RTF or plain text, a few longer than Zoho keeps). What claims and the communication
log need of the visits is returned as `ChunkVisits`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clinic2zoho.generator import content, pools
from clinic2zoho.generator.cells import DATE_POOL, EXPORT_DAY, LEGACY_DAY, datetimes, pick
from clinic2zoho.generator.columns import BAD_VISIT_DATES, COLUMNS, UNKNOWN_PATIENT, UNKNOWN_PROVIDER
from clinic2zoho.generator.export_state import Chunk
from clinic2zoho.generator.model import InjectedValue, MalformedRow
from clinic2zoho.generator.patients import ChunkPatients
from clinic2zoho.generator.reference import Providers
from clinic2zoho.zoho.facts import NOTE_CONTENT_MAX_CHARS

LONG_NOTE_CHARS = NOTE_CONTENT_MAX_CHARS  # a few notes are longer than Zoho keeps


@dataclass
class ChunkVisits:
    """The chunk's appointments (arrays of one length)."""

    ids: list[str]
    columns: dict[str, list[str]]  # the appointments.csv columns as written (defects included)
    patient: np.ndarray  # index of the patient in the chunk
    day: np.ndarray  # day numbers (cells' epoch)
    start: np.ndarray  # minutes of the day
    end: np.ndarray
    untimed: np.ndarray  # no start or end time recorded
    visit_dates: list[str]
    completed: np.ndarray  # positions of the completed visits


def write_appointments(chunk: Chunk, patients: ChunkPatients, prov: Providers) -> ChunkVisits:
    """None for prospects and referral inquiries; an orphan provider, an invalid visit date and
    ragged rows (an unquoted comma in reason) planted on visits nothing else refers to."""
    rng, state, cases = chunk.rng, chunk.state, chunk.state.cases
    status, created, pids = patients.status, patients.created, patients.ids
    lam = np.array([4.5, 2.5, 3.0, 0.0, 0.0])[status]
    n_appt = rng.poisson(lam)
    aidx = np.repeat(np.arange(chunk.size), n_appt)
    m = len(aidx)
    lo = created[aidx]
    hi = np.where(status[aidx] == 0, EXPORT_DAY + 90, EXPORT_DAY - 200)
    hi = np.maximum(hi, lo + 1)
    day = lo + (rng.random(m) * (hi - lo)).astype(np.int64)
    future = day > EXPORT_DAY
    past_outcome = rng.choice(3, m, p=pools.PAST_OUTCOME_WEIGHTS)
    outcome = np.where(future, 3, past_outcome)  # 3 = scheduled
    untimed = ~future & (((day < LEGACY_DAY) & (rng.random(m) < 0.7)) | (rng.random(m) < 0.03))
    start = 8 * 60 + 15 * rng.integers(0, 38, m)
    end = start + np.array([15, 20, 30, 45, 60])[rng.integers(0, 5, m)]
    own_provider = patients.has_primary[aidx] & (rng.random(m) < 0.75)
    provider = np.where(own_provider, patients.primary[aidx], rng.choice(prov.owners, m))
    aclinic = np.where(rng.random(m) < 0.85, patients.clinic[aidx], rng.integers(0, len(pools.CLINICS), m))
    booked = day - rng.integers(1, 60, m)
    visit_dates = [DATE_POOL[d] for d in day.tolist()]
    starts = datetimes(day, start)
    ends_ = datetimes(day, end)
    for i in np.flatnonzero(untimed).tolist():
        starts[i] = ends_[i] = ""
    outcomes = [("completed", "no-show", "cancelled", "scheduled")[o] for o in outcome.tolist()]
    acols = {
        "appointment_id": state.take_ids("appointments", "AP", 8, m),
        "patient_id": [pids[i] for i in aidx.tolist()],
        "provider_id": [prov.ids[p] for p in provider.tolist()],
        "clinic_id": [pools.CLINICS[c][0] for c in aclinic.tolist()],
        "visit_date": visit_dates, "start_time": starts, "end_time": ends_,
        "appointment_type": [pools.APPOINTMENT_TYPES[t] for t in rng.integers(0, len(pools.APPOINTMENT_TYPES), m).tolist()],
        "reason": [pools.REASONS[t] for t in rng.integers(0, len(pools.REASONS), m).tolist()],
        "outcome": outcomes,
        "created_at": datetimes(booked, rng.integers(8 * 60, 18 * 60, m)),
        "updated_at": datetimes(np.where(future, booked, day), np.where(future, 9 * 60, end)),
    }
    aids = acols["appointment_id"]
    ragged: dict[int, tuple] = {}
    completed = np.flatnonzero(outcome == 0)
    if state.defects and m:
        # orphan: a visit by a provider missing from providers.csv
        for i in pick(rng, np.flatnonzero(outcome == 1), chunk.quota(0.00005, 1, m)).tolist():
            acols["provider_id"][i] = UNKNOWN_PROVIDER
            cases.orphans.append(InjectedValue("appointments", aids[i], "provider_id", UNKNOWN_PROVIDER,
                                               "unknown_provider"))
        orphaned = {o.record_id for o in cases.orphans}
        cancelled = [i for i in np.flatnonzero(outcome == 2).tolist() if aids[i] not in orphaned]
        picked = pick(rng, np.array(cancelled, dtype=np.int64), chunk.quota(0.0001, 2, m))
        for i in picked[:1].tolist():
            value = BAD_VISIT_DATES[chunk.number % len(BAD_VISIT_DATES)]
            acols["visit_date"][i] = value
            cases.invalid_values.append(InjectedValue("appointments", aids[i], "visit_date", value,
                                                      "invalid_date"))
        # ragged rows on cancelled visits (nothing refers to them): an unquoted comma in reason
        for i in picked[1:].tolist():
            row = [acols[c][i] for c in COLUMNS["appointments"]]
            row[8:9] = ["Rescheduled", " patient called"]
            ragged[i] = tuple(row)
    first_row = state.files["appointments"].write([acols[c] for c in COLUMNS["appointments"]], ragged)
    for i in sorted(ragged):
        cases.malformed_rows.append(MalformedRow("appointments", first_row + i, aids[i], "extra_field"))
    return ChunkVisits(ids=aids, columns=acols, patient=aidx, day=day, start=start, end=end, untimed=untimed,
                       visit_dates=visit_dates, completed=completed)


def write_treatments(chunk: Chunk, patients: ChunkPatients, visits: ChunkVisits) -> None:
    """On completed visits, sometimes two; a few rows miss their last two fields."""
    rng, completed = chunk.rng, visits.completed
    tn = (rng.random(len(completed)) < 0.6).astype(np.int64) + (rng.random(len(completed)) < 0.1)
    tidx = np.repeat(completed, tn)
    m = len(tidx)
    proc = rng.integers(0, len(pools.PROCEDURES), m)
    tcols = [
        chunk.state.take_ids("treatments", "TR", 8, m),
        [patients.ids[i] for i in visits.patient[tidx].tolist()],
        [visits.ids[i] for i in tidx.tolist()],
        [visits.columns["provider_id"][i] for i in tidx.tolist()],
        [pools.PROCEDURES[p][0] for p in proc.tolist()],
        [pools.PROCEDURES[p][1] for p in proc.tolist()],
        [pools.PROCEDURES[p][2] for p in proc.tolist()],
        [visits.visit_dates[i] for i in tidx.tolist()],
        [pools.TREATMENT_OUTCOMES[o] for o in rng.integers(0, len(pools.TREATMENT_OUTCOMES), m).tolist()],
    ]
    tragged: dict[int, tuple] = {}
    if chunk.state.defects and m:
        for i in pick(rng, np.arange(m), chunk.quota(0.00003, 1, m)).tolist():
            tragged[i] = tuple(col[i] for col in tcols[:-2])  # the last two fields are missing
    first_row = chunk.state.files["treatments"].write(tcols, tragged)
    for i in sorted(tragged):
        chunk.state.cases.malformed_rows.append(MalformedRow("treatments", first_row + i, tcols[0][i],
                                                             "missing_field"))


def write_clinical_notes(chunk: Chunk, patients: ChunkPatients, visits: ChunkVisits) -> None:
    """On some completed visits: HTML, RTF or plain text; a few too long for Zoho, a few orphans."""
    rng, cases = chunk.rng, chunk.state.cases
    nidx = visits.completed[rng.random(len(visits.completed)) < 0.15]
    m = len(nidx)
    fmt = rng.choice(3, m, p=[0.45, 0.3, 0.25])
    fmts = [("html", "rtf", "text")[f] for f in fmt.tolist()]
    k = rng.integers(0, 1000, m)
    sys_ = rng.integers(100, 160, m)
    dia = rng.integers(60, 100, m)
    pulse = rng.integers(52, 110, m)
    body = [content.note_body(f, kk, s, d, p) for f, kk, s, d, p in
            zip(fmts, k.tolist(), sys_.tolist(), dia.tolist(), pulse.tolist())]
    note_ids = chunk.state.take_ids("clinical_notes", "NT", 8, m)
    for i in pick(rng, np.arange(m), chunk.quota(0.0002, 2, m)).tolist():
        body[i] = content.long_note_body(fmts[i], int(k[i]), LONG_NOTE_CHARS)
        cases.long_notes.append(note_ids[i])
    note_minute = np.where(visits.untimed[nidx], 17 * 60 + 30, visits.end[nidx] + 5)
    ncols = [
        note_ids,
        [patients.ids[i] for i in visits.patient[nidx].tolist()],
        [visits.ids[i] for i in nidx.tolist()],
        [visits.columns["provider_id"][i] for i in nidx.tolist()],
        datetimes(visits.day[nidx], note_minute),
        [pools.NOTE_TYPES[t] for t in rng.integers(0, len(pools.NOTE_TYPES), m).tolist()],
        fmts, body,
    ]
    if chunk.state.defects and m:
        for i in pick(rng, np.arange(m), chunk.quota(0.00005, 1, m)).tolist():
            ncols[1][i] = UNKNOWN_PATIENT
            cases.orphans.append(InjectedValue("clinical_notes", note_ids[i], "patient_id",
                                               UNKNOWN_PATIENT, "unknown_patient"))
    chunk.state.files["clinical_notes"].write(ncols)
