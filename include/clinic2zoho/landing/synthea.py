"""Synthea CSV export folders: which headers mean the same thing across Synthea 3.x releases,
and which columns each core file must have.

Canonical names are the Synthea 3.0 headers normalised (`raw.synthea__claims.patientid`,
`raw.synthea__encounters.patient`), so staging models see one spelling whatever the release.
A rename applies to a file only when it leads to one of that file's own canonical columns: a
3.1+ `payer_transitions.START_DATE` becomes `start_year` (3.0's name for the same instant), never
the `start` of the files that have one. Columns a release adds (patients' MIDDLE, FIPS, INCOME;
providers' ENCOUNTERS, PROCEDURES; payers' OWNERSHIP; conditions' and procedures' SYSTEM) land
as they are, and a column a release drops that staging does not need (providers' UTILIZATION)
is not asked for."""

from __future__ import annotations

from pathlib import Path

from rapidfuzz import fuzz, process

from .errors import LandingError
from .names import snake
from .paths import inside_export
from .sniff import CsvShape, sniff_csv
from .stability import FileWatch

# The Synthea 3.0 header of each file, normalised: the names staging reads.
CANONICAL: dict[str, tuple[str, ...]] = {
    "patients": ("id", "birthdate", "deathdate", "ssn", "drivers", "passport", "prefix", "first", "last",
                 "suffix", "maiden", "marital", "race", "ethnicity", "gender", "birthplace", "address", "city",
                 "state", "county", "zip", "lat", "lon", "healthcare_expenses", "healthcare_coverage"),
    "encounters": ("id", "start", "stop", "patient", "organization", "provider", "payer", "encounterclass",
                   "code", "description", "base_encounter_cost", "total_claim_cost", "payer_coverage",
                   "reasoncode", "reasondescription"),
    "providers": ("id", "organization", "name", "gender", "speciality", "address", "city", "state", "zip",
                  "lat", "lon", "utilization"),
    "organizations": ("id", "name", "address", "city", "state", "zip", "lat", "lon", "phone", "revenue",
                      "utilization"),
    "payers": ("id", "name", "address", "city", "state_headquartered", "zip", "phone", "amount_covered",
               "amount_uncovered", "revenue", "covered_encounters", "uncovered_encounters",
               "covered_medications", "uncovered_medications", "covered_procedures", "uncovered_procedures",
               "covered_immunizations", "uncovered_immunizations", "unique_customers", "qols_avg",
               "member_months"),
    "payer_transitions": ("patient", "memberid", "start_year", "end_year", "payer", "secondary_payer",
                          "ownership", "ownername"),
    "claims": ("id", "patientid", "providerid", "primarypatientinsuranceid", "secondarypatientinsuranceid",
               "departmentid", "patientdepartmentid", "referringproviderid", "appointmentid",
               "currentillnessdate", "servicedate", "supervisingproviderid", "status1", "status2", "statusp",
               "outstanding1", "outstanding2", "outstandingp", "lastbilleddate1", "lastbilleddate2",
               "lastbilleddatep", "healthcareclaimtypeid1", "healthcareclaimtypeid2"),
    "claims_transactions": ("id", "claimid", "chargeid", "patientid", "type", "amount", "method", "fromdate",
                            "todate", "placeofservice", "procedurecode", "units", "departmentid", "notes",
                            "unitamount", "transferoutid", "transfertype", "payments", "adjustments",
                            "transfers", "outstanding", "appointmentid", "linenote", "patientinsuranceid",
                            "feescheduleid", "providerid", "supervisingproviderid"),
    "procedures": ("start", "stop", "patient", "encounter", "code", "description", "base_cost", "reasoncode",
                   "reasondescription"),
    "conditions": ("start", "stop", "patient", "encounter", "code", "description"),
    "medications": ("start", "stop", "patient", "payer", "encounter", "code", "description", "base_cost",
                    "payer_coverage", "dispenses", "totalcost", "reasoncode", "reasondescription"),
    "allergies": ("start", "stop", "patient", "encounter", "code", "system", "description", "type", "category"),
    "careplans": ("id", "start", "stop", "patient", "encounter", "code", "description", "reasoncode",
                  "reasondescription"),
    "devices": ("start", "stop", "patient", "encounter", "code", "description", "udi"),
    "immunizations": ("date", "patient", "encounter", "code", "description", "base_cost"),
    "observations": ("date", "patient", "encounter", "category", "code", "description", "value", "units", "type"),
    "supplies": ("date", "patient", "encounter", "code", "description", "quantity"),
    "imaging_studies": ("id", "date", "patient", "encounter", "series_uid", "bodysite_code",
                        "bodysite_description", "modality_code", "modality_description", "instance_uid",
                        "sop_code", "sop_description", "procedure_code"),
}

# Names that mean one column, whatever the release or spelling; a file's canonical member of a
# group is the one in CANONICAL (the first member for files Synthea 3.0 does not write).
_SAME_COLUMN: tuple[tuple[str, ...], ...] = (
    ("patient", "patientid", "patient_id"),
    ("encounter", "encounterid", "encounter_id"),
    ("provider", "providerid", "provider_id"),
    ("organization", "organizationid", "organization_id"),
    ("payer", "payerid", "payer_id"),
    ("claimid", "claim", "claim_id"),
    ("chargeid", "charge", "charge_id"),
    ("appointmentid", "appointment", "appointment_id"),
    ("memberid", "member_id"),
    ("secondary_payer", "secondary_payer_id"),
    ("start", "start_date", "start_time"),
    ("stop", "stop_date", "stop_time"),
    ("speciality", "specialty"),
    # payer_transitions: 3.0 START_YEAR/END_YEAR (ISO instants despite the name), 3.1+ START_DATE/END_DATE
    ("start_year", "start_date"),
    ("end_year", "end_date"),
    ("ownership", "plan_ownership"),
    ("ownername", "owner_name"),
)
# Per file: names an earlier release gave a canonical column (Synthea 2.x procedures had DATE).
_FILE_ALIASES: dict[str, dict[str, str]] = {
    "procedures": {"date": "start"},
}
# Keys of the files Synthea 3.0 does not write: renamed to the first member of their group.
_KEY_GROUPS = _SAME_COLUMN[:5]

# Required columns per core file (canonical names).
REQUIRED: dict[str, list[str]] = {
    "patients": ["id", "birthdate", "first", "last", "gender"],
    "encounters": ["id", "start", "patient", "organization", "provider", "encounterclass", "code"],
    "providers": ["id", "organization", "name"],
    "organizations": ["id", "name"],
    "payers": ["id", "name"],
    "payer_transitions": ["patient", "payer", "start_year"],
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
    """alias -> canonical name, for this file only."""
    canonical = CANONICAL.get(entity)
    renames: dict[str, str] = {}
    for group in _SAME_COLUMN if canonical else _KEY_GROUPS:
        targets = [name for name in group if name in canonical] if canonical else [group[0]]
        if len(targets) == 1:
            renames.update({name: targets[0] for name in group if name != targets[0]})
    renames.update(_FILE_ALIASES.get(entity, {}))
    return renames


def aliases_of(entity: str, column: str) -> list[str]:
    """The other names a Synthea release gives this file's canonical column."""
    return [alias for alias, target in renames_for(entity).items() if target == column]


def check_required(shape: CsvShape, entity: str) -> None:
    """Every required column present (under any release's name); a missing one names the header's
    columns and the nearest of them, so a renamed column is found at a glance."""
    present = set(shape.columns)
    for need in REQUIRED.get(entity, []):
        if need in present:
            continue
        names = [need, *aliases_of(entity, need)]
        label = " or ".join(n.upper() for n in names)
        nearest = _nearest(names, shape.header)
        hint = f"; nearest: {', '.join(nearest)}" if nearest else "; no header column is close"
        raise LandingError(
            f"required column {label} is missing from the header; the header has "
            f"{', '.join(shape.header)}{hint}", file=shape.path, field=need.upper())


def _nearest(names: list[str], header: list[str], limit: int = 3) -> list[str]:
    """Header columns most like any of `names` (normalised before comparing), best first."""
    choices = {i: snake(h) for i, h in enumerate(header)}
    best: dict[int, float] = {}
    for name in names:
        for _, score, i in process.extract(name, choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=60):
            best[i] = max(best.get(i, 0.0), score)
    return [header[i] for i in sorted(best, key=lambda i: (-best[i], i))[:limit]]


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
