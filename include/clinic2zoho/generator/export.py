"""The generic clinic export generator (docs/generic_export.md): `generate_export` orchestrates
the entity writers, one function per entity, and writes the manifest.

Rows are built a chunk of patients at a time with numpy (random draws, repeats, pool lookups) and
written with csv.writer, so a million patients (~10 million rows) takes minutes and memory stays
flat. Each chunk has its own random stream derived from (seed, chunk number) and the chunk size is
fixed, so the same seed and size always give the same bytes. The entities of a chunk draw from
its stream in turn, so the order below is part of the output: an entity added later goes last,
or draws from a stream of its own.

Where each entity is made: reference.py (clinics, referral sources, providers, care programs),
patients.py (patients, their duplicates and invalid values), billing.py (insurance plans, claims),
visits.py (appointments, treatments, clinical notes), patient_records.py (documents, program
enrolments, communications)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from clinic2zoho.generator import pools
from clinic2zoho.generator.billing import write_claims, write_insurance_plans
from clinic2zoho.generator.columns import COLUMNS, KEYS
from clinic2zoho.generator.export_state import DOCUMENT_CAP, Chunk, EntityFile, ExportState
from clinic2zoho.generator.model import GeneratedExport
from clinic2zoho.generator.patient_records import write_communications, write_documents, write_program_enrollments
from clinic2zoho.generator.patients import write_patients
from clinic2zoho.generator.reference import (
    Providers,
    write_care_programs,
    write_clinics,
    write_providers,
    write_referral_sources,
)
from clinic2zoho.generator.visits import LONG_NOTE_CHARS, write_appointments, write_clinical_notes, write_treatments
from clinic2zoho.generator.workflows import WORKFLOWS

__all__ = ["CHUNK_PATIENTS", "COLUMNS", "DOCUMENT_CAP", "KEYS", "LONG_NOTE_CHARS", "generate_export"]

CHUNK_PATIENTS = 25_000


def _write_reference(state: ExportState) -> Providers:
    write_clinics(state)
    write_referral_sources(state)
    rng = state.rng(1)  # providers, then care programs
    prov = write_providers(state, rng)
    write_care_programs(state, rng, prov)
    return prov


def _write_chunk(state: ExportState, prov: Providers, number: int, size: int) -> None:
    """One chunk of patients and everything that hangs off them."""
    chunk = Chunk(state, number, size, state.rng(2, number))
    patients = write_patients(chunk, prov)
    payer_of = write_insurance_plans(chunk, patients)
    visits = write_appointments(chunk, patients, prov)
    write_claims(chunk, patients, visits, payer_of)
    write_treatments(chunk, patients, visits)
    write_clinical_notes(chunk, patients, visits)
    write_documents(chunk, patients)
    write_program_enrollments(chunk, patients)
    write_communications(chunk, patients, visits)


def _write_manifest(state: ExportState) -> Path:
    manifest = {
        "format": "clinic2zoho-generic",
        "version": 1,
        "clinic_name": pools.CLINIC_NAME,
        "timezone": pools.CLINIC_TIMEZONE,
        "document_url_base": pools.DOCUMENT_URL_BASE,
        "exported_at": pools.EXPORTED_AT,
        "encoding": state.encoding,
        "entities": {e: {"file": f"{e}.csv", "key": KEYS[e]} for e in COLUMNS},
        "custom_objects": [{"entity": "care_programs", "key": "program_id", "label": "Care Program"}],
        "relations": [{"entity": "program_enrollments", "type": "many_to_many",
                       "left": {"entity": "patients", "column": "patient_id"},
                       "right": {"entity": "care_programs", "column": "program_id"}}],
        "workflows": "workflows.json",
    }
    manifest_path = state.export_dir / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest_path


def _run(state: ExportState) -> GeneratedExport:
    if state.export_dir.exists():
        shutil.rmtree(state.export_dir)
    (state.export_dir / "files").mkdir(parents=True)
    state.out_dir.mkdir(parents=True, exist_ok=True)
    state.files = {e: EntityFile(state.export_dir / f"{e}.csv", cols, state.encoding) for e, cols in COLUMNS.items()}
    try:
        prov = _write_reference(state)
        for number, start in enumerate(range(0, state.n_patients, CHUNK_PATIENTS)):
            _write_chunk(state, prov, number, min(CHUNK_PATIENTS, state.n_patients - start))
    finally:
        for f in state.files.values():
            f.close()
    (state.export_dir / "workflows.json").write_text(json.dumps(WORKFLOWS, indent=1), encoding="utf-8")
    manifest_path = _write_manifest(state)
    result = GeneratedExport(
        out_dir=state.out_dir, export_dir=state.export_dir, manifest_path=manifest_path,
        zoho_users_path=state.out_dir / "zoho_users.json",
        overrides_path=state.out_dir / "provider_email_overrides.csv",
        cases_path=state.out_dir / "injected_cases.json",
        counts={e: f.count for e, f in state.files.items()},
        cases=state.cases, files_written=state.files_written,
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
    return _run(ExportState(Path(out_dir), patients, seed, with_files, defects, unresolved_providers, encoding))
