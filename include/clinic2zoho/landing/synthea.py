"""Synthea CSV export folders: which headers mean the same thing across Synthea 3.x releases,
and which columns each core file must have.

Canonical names are the Synthea 3.0 headers normalised (`raw.synthea__claims.patientid`,
`raw.synthea__encounters.patient`), so staging models see one spelling whatever the release."""

from __future__ import annotations

from pathlib import Path

from .errors import LandingError
from .names import snake
from .paths import inside_export
from .sniff import CsvShape, sniff_csv
from .stability import FileWatch

# Renames used by files whose canonical foreign keys are PATIENT, ENCOUNTER, PROVIDER, ...
_COMMON_RENAMES = {
    "patientid": "patient", "patient_id": "patient",
    "encounterid": "encounter", "encounter_id": "encounter",
    "providerid": "provider", "provider_id": "provider",
    "organizationid": "organization", "organization_id": "organization",
    "payerid": "payer", "payer_id": "payer",
    "start_date": "start", "stop_date": "stop", "start_time": "start", "stop_time": "stop",
    "specialty": "speciality",
}

# Per-file exceptions: the claims files name their keys PATIENTID/PROVIDERID in 3.0, and
# payer_transitions' START_DATE (3.1+) is a date while 3.0's START_YEAR is a year, so both stay.
_FILE_RENAMES: dict[str, dict[str, str]] = {
    "claims": {"patient": "patientid", "patient_id": "patientid", "provider": "providerid",
               "provider_id": "providerid", "appointment": "appointmentid"},
    "claims_transactions": {"patient": "patientid", "patient_id": "patientid", "claim": "claimid",
                            "claim_id": "claimid", "provider": "providerid", "provider_id": "providerid",
                            "charge": "chargeid"},
    "payer_transitions": {"patientid": "patient", "patient_id": "patient", "payerid": "payer",
                          "payer_id": "payer", "owner_name": "ownername", "plan_ownership": "ownership",
                          "secondary_payer_id": "secondary_payer"},
    "procedures": {"date": "start"},  # Synthea 2.x/early 3.x procedures had DATE, later START/STOP
}

# Required columns per core file; a tuple means "one of these".
REQUIRED: dict[str, list[str | tuple[str, ...]]] = {
    "patients": ["id", "birthdate", "first", "last", "gender"],
    "encounters": ["id", "start", "patient", "organization", "provider", "encounterclass", "code"],
    "providers": ["id", "organization", "name"],
    "organizations": ["id", "name"],
    "payers": ["id", "name"],
    "payer_transitions": ["patient", "payer", ("start_year", "start_date")],
    "claims": ["id", "patientid", "providerid"],
    "claims_transactions": ["id", "claimid", "patientid", "type"],
    "procedures": ["start", "patient", "encounter", "code"],
    "conditions": ["start", "patient", "encounter", "code"],
    "medications": ["start", "patient", "encounter", "code"],
}


# Files whose `id` identifies one record across exports (landing keeps versions per id). Files
# without a natural id (conditions, observations, ...) have none: each row is its own key.
# imaging_studies is left out: its Id names a study and repeats on every instance row.
RECORD_KEYS: dict[str, str] = {entity: "id" for entity in (
    "patients", "encounters", "providers", "organizations", "payers", "claims", "claims_transactions",
    "careplans")}


def record_key(entity: str, shape: CsvShape) -> str | None:
    key = RECORD_KEYS.get(entity)
    return key if key in shape.columns else None


def renames_for(entity: str) -> dict[str, str]:
    if entity in _FILE_RENAMES and entity in {"claims", "claims_transactions"}:
        return dict(_FILE_RENAMES[entity])
    return {**_COMMON_RENAMES, **_FILE_RENAMES.get(entity, {})}


def check_required(shape: CsvShape, entity: str) -> None:
    present = set(shape.columns)
    for need in REQUIRED.get(entity, []):
        options = need if isinstance(need, tuple) else (need,)
        if not present.intersection(options):
            label = " or ".join(o.upper() for o in options)
            raise LandingError(f"required column {label} is missing from the header", file=shape.path,
                               field=label)


def looks_like_synthea(folder: Path) -> bool:
    patients = folder / "patients.csv"
    if not patients.is_file():
        return False
    patients = inside_export(folder, patients.name)  # a symlink out of the folder is refused, not read
    try:
        shape = sniff_csv(patients, renames_for("patients"))
    except LandingError:
        return False
    return {"id", "birthdate", "first", "last"} <= set(shape.columns)


def plan(folder: Path, watch: FileWatch | None = None) -> list[tuple[str, CsvShape]]:
    """Every CSV in the folder, checked inside it, sniffed and checked before anything is written."""
    watch = watch or FileWatch()
    # not only regular files: a folder (or a dangling link) named like one is refused below, not skipped
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".csv", ".tsv", ".txt"})
    if not files:
        raise LandingError("no CSV files found in the Synthea export folder", file=folder)
    planned = []
    seen: dict[str, Path] = {}
    for path in files:
        entity = snake(path.name.split(".")[0])
        if entity in seen:
            raise LandingError(f"{seen[entity].name} and {path.name} would both land as entity {entity!r}; "
                               "keep one of them", file=path)
        seen[entity] = path
        shape = sniff_csv(watch.note(inside_export(folder, path.name)), renames_for(entity))
        check_required(shape, entity)
        planned.append((entity, shape))
    return planned
