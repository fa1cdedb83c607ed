"""What else a chunk's patients have on file: documents (a capped share, a few over Zoho's
attachment limit, their files written sparse), enrolments in care programs (many-to-many) and the
communication log (a stream of its own, so the files before it stay the same for a seed)."""

from __future__ import annotations

import math

import numpy as np

from clinic2zoho.generator import content, pools
from clinic2zoho.generator.cells import DATE_POOL, EXPORT_DAY, datetimes, pick
from clinic2zoho.generator.columns import COLUMNS, UNKNOWN_PROVIDER
from clinic2zoho.generator.communications import PatientFacts, VisitFacts, communication_columns
from clinic2zoho.generator.export_state import Chunk
from clinic2zoho.generator.patients import ChunkPatients
from clinic2zoho.generator.visits import ChunkVisits
from clinic2zoho.zoho.facts import ATTACHMENT_MAX_BYTES


def write_documents(chunk: Chunk, patients: ChunkPatients) -> None:
    rng, state, n = chunk.rng, chunk.state, chunk.size
    eligible = np.flatnonzero(patients.status <= 2)
    m = min(state.documents_left, len(eligible), math.ceil(n * 0.1))
    if m <= 0:
        return
    state.documents_left -= m
    didx = rng.choice(eligible, m)
    dtype = rng.integers(0, len(pools.DOCUMENT_TYPES), m)
    size = np.minimum(np.exp(rng.normal(12.5, 1.2, m)).astype(np.int64) + 2048, ATTACHMENT_MAX_BYTES)
    doc_ids = state.take_ids("documents", "DOC", 7, m)
    big = pick(rng, np.arange(m), chunk.quota(0.001, 2, m))
    for i in big.tolist():
        size[i] = ATTACHMENT_MAX_BYTES + int(rng.integers(1, 35 * 1024 * 1024))
        state.cases.oversized_documents.append(doc_ids[i])
    dday = np.minimum(patients.created[didx] + rng.integers(0, 2000, m), EXPORT_DAY - 1)
    names = [f"{pools.DOCUMENT_TYPES[t][1]}_{DATE_POOL[d]}{pools.DOCUMENT_TYPES[t][2]}"
             for t, d in zip(dtype.tolist(), dday.tolist())]
    paths = [f"files/{i}_{name}" for i, name in zip(doc_ids, names)]
    mimes = [pools.DOCUMENT_TYPES[t][3] for t in dtype.tolist()]
    state.files["documents"].write([
        doc_ids, [patients.ids[i] for i in didx.tolist()], names, paths, mimes,
        [str(s) for s in size.tolist()], [pools.DOCUMENT_TYPES[t][0] for t in dtype.tolist()],
        datetimes(dday, rng.integers(8 * 60, 18 * 60, m)),
    ])
    if state.with_files:
        for doc_id, path, mime, s in zip(doc_ids, paths, mimes, size.tolist()):
            content.write_document(state.export_dir / path, mime, s, doc_id)
            state.files_written += 1


def write_program_enrollments(chunk: Chunk, patients: ChunkPatients) -> None:
    """Active patients in one care program, a quarter of them in two."""
    rng, n = chunk.rng, chunk.size
    enrolled = (patients.status == 0) & (rng.random(n) < 0.12)
    en = enrolled.astype(np.int64) + (enrolled & (rng.random(n) < 0.25))
    eidx = np.repeat(np.arange(n), en)
    m = len(eidx)
    erank = np.arange(m) - np.repeat(np.cumsum(en) - en, en)
    p0 = rng.integers(0, len(pools.CARE_PROGRAMS), n)[eidx]
    prog = (p0 + erank * (1 + rng.integers(0, len(pools.CARE_PROGRAMS) - 1, m))) % len(pools.CARE_PROGRAMS)
    on = np.minimum(patients.created[eidx] + rng.integers(0, 1500, m), EXPORT_DAY - 1)
    chunk.state.files["program_enrollments"].write([
        chunk.state.take_ids("program_enrollments", "EN", 7, m),
        [pools.CARE_PROGRAMS[p][0] for p in prog.tolist()],
        [patients.ids[i] for i in eidx.tolist()],
        [DATE_POOL[d] for d in on.tolist()],
        [pools.ENROLLMENT_ROLES[r] for r in rng.integers(0, len(pools.ENROLLMENT_ROLES), m).tolist()],
    ])


def write_communications(chunk: Chunk, patients: ChunkPatients, visits: ChunkVisits) -> None:
    pcols, acols = patients.columns, visits.columns
    timed = np.flatnonzero(~visits.untimed)
    comms = communication_columns(chunk.state.rng(4, chunk.number), PatientFacts(
        ids=patients.ids, is_lead=patients.lead, created=patients.created, has_email=patients.has_email,
        has_phone=patients.has_phone,
        email_opt_out=np.array(pcols["email_opt_out"]) == "true",
        sms_opt_out=np.array(pcols["sms_opt_out"]) == "true",
        prefers_sms=np.array(pcols["preferred_contact_method"]) == "sms",
        staff=pcols["primary_provider_id"],
    ), VisitFacts(patient=visits.patient[timed], day=visits.day[timed], minute=visits.start[timed],
                  provider=["" if acols["provider_id"][i] == UNKNOWN_PROVIDER else acols["provider_id"][i]
                            for i in timed.tolist()]), EXPORT_DAY, DATE_POOL)
    chunk.state.files["communications"].write([
        chunk.state.take_ids("communications", "COM", 8, len(comms["patient_id"])),
        *(comms[c] for c in COLUMNS["communications"][1:])])
