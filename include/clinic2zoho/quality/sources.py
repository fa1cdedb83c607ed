"""What the Data Quality Report checks in each source format, as data: the key of each entity,
the fields holding dates, emails and phones, the references between entities, and the SQL that
gives people (for duplicates), providers (for emails) and documents (for sizes).

Every statement runs against views `q_<entity>` (the latest landed version of each record, see
clinic2zoho.quality.report); a check whose entity or column was not landed is skipped."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ValueCheck:
    entity: str
    column: str
    kind: str  # date | datetime | email | phone


@dataclass(frozen=True)
class Reference:
    entity: str
    column: str
    target: str
    target_columns: tuple[str, ...]  # the reference resolves if it equals any of them


@dataclass(frozen=True)
class SourceSpec:
    fmt: str
    label: str
    keys: dict[str, str]  # entity -> key column (entities not listed: `id` when present)
    value_checks: list[ValueCheck]
    references: list[Reference]
    people_sql: str | None  # unique_id, first_name, last_name, birth_date, phone, email, postal_code
    providers_sql: str | None  # provider_id, name, email, npi, status, owned_records; {email} = email column
    documents_sql: str | None  # document_id, patient_id, name, size_bytes, source_file, file_path
    # dialects of date/datetime fields: "strict" = the documented generic formats; "iso" = ISO 8601
    date_style: str = "strict"
    people_entity: str = "patients"
    provider_entity: str = "providers"
    document_entity: str | None = None
    required_entities: tuple[str, ...] = field(default_factory=tuple)


def _clean_name(expr: str) -> str:
    """Lower case, accents and digits (Synthea suffixes names with digits) removed, spaces collapsed."""
    return (f"nullif(trim(regexp_replace(regexp_replace(lower(strip_accents(coalesce({expr}, ''))), "
            f"'[^a-z'' -]', '', 'g'), '\\s+', ' ', 'g')), '')")


def _phone_digits(expr: str) -> str:
    digits = f"regexp_replace(coalesce({expr}, ''), '[^0-9]', '', 'g')"
    return f"CASE WHEN length({digits}) >= 10 THEN right({digits}, 10) END"


def _email(expr: str) -> str:
    return f"nullif(lower(trim({expr})), '')"


def _people_sql(view: str, unique_id: str, first: str, last: str, birth_date: str, postal_code: str, status: str,
                *, phone: str | None = None, email: str | None = None, first_name: str | None = None) -> str:
    """A format's people query (SourceSpec.people_sql): its columns cleaned one way whatever the export
    calls them. `first` and `last` name the person shown; `first_name` is what the duplicate finder
    compares of the first (default `first`); a format without phones or emails leaves them NULL."""
    none = "CAST(NULL AS VARCHAR)"
    return f"""
        SELECT {unique_id} AS unique_id, {_clean_name(first_name or first)} AS first_name,
               {_clean_name(last)} AS last_name, nullif(trim({birth_date}), '') AS birth_date,
               {_phone_digits(phone) if phone else none} AS phone, {_email(email) if email else none} AS email,
               nullif(left(trim({postal_code}), 5), '') AS postal_code,
               concat_ws(' ', {first}, {last}) AS display_name, {birth_date} AS display_birth_date,
               {status} AS status
        FROM {view}"""


# --- generic clinic export ----------------------------------------------------------------------

_G_REFS = [
    ("patients", "clinic_id", "clinics", "clinic_id"),
    ("patients", "primary_provider_id", "providers", "provider_id"),
    ("patients", "referral_source_id", "referral_sources", "referral_source_id"),
    ("providers", "clinic_id", "clinics", "clinic_id"),
    ("appointments", "patient_id", "patients", "patient_id"),
    ("appointments", "provider_id", "providers", "provider_id"),
    ("appointments", "clinic_id", "clinics", "clinic_id"),
    ("insurance_plans", "patient_id", "patients", "patient_id"),
    ("claims", "patient_id", "patients", "patient_id"),
    ("claims", "provider_id", "providers", "provider_id"),
    ("claims", "appointment_id", "appointments", "appointment_id"),
    ("treatments", "patient_id", "patients", "patient_id"),
    ("treatments", "provider_id", "providers", "provider_id"),
    ("treatments", "appointment_id", "appointments", "appointment_id"),
    ("clinical_notes", "patient_id", "patients", "patient_id"),
    ("clinical_notes", "provider_id", "providers", "provider_id"),
    ("clinical_notes", "appointment_id", "appointments", "appointment_id"),
    ("documents", "patient_id", "patients", "patient_id"),
    ("care_programs", "coordinator_provider_id", "providers", "provider_id"),
    ("program_enrollments", "program_id", "care_programs", "program_id"),
    ("program_enrollments", "patient_id", "patients", "patient_id"),
]

_G_VALUES = [
    ("clinics", "email", "email"), ("clinics", "phone", "phone"),
    ("providers", "email", "email"), ("providers", "phone", "phone"),
    ("patients", "birth_date", "date"), ("patients", "email", "email"), ("patients", "phone", "phone"),
    ("patients", "created_at", "datetime"), ("patients", "updated_at", "datetime"),
    ("appointments", "visit_date", "date"), ("appointments", "start_time", "datetime"),
    ("appointments", "end_time", "datetime"), ("appointments", "created_at", "datetime"),
    ("appointments", "updated_at", "datetime"),
    ("insurance_plans", "effective_date", "date"), ("insurance_plans", "termination_date", "date"),
    ("claims", "service_date", "date"), ("claims", "submitted_at", "datetime"),
    ("treatments", "treatment_date", "date"), ("clinical_notes", "note_date", "datetime"),
    ("documents", "created_at", "datetime"), ("care_programs", "start_date", "date"),
    ("program_enrollments", "enrolled_on", "date"),
]

GENERIC = SourceSpec(
    fmt="generic",
    label="Generic clinic CSV export",
    keys={"clinics": "clinic_id", "providers": "provider_id", "referral_sources": "referral_source_id",
          "patients": "patient_id", "appointments": "appointment_id", "insurance_plans": "plan_id",
          "claims": "claim_id", "treatments": "treatment_id", "clinical_notes": "note_id",
          "documents": "document_id", "care_programs": "program_id", "program_enrollments": "enrollment_id",
          "workflows": "workflow_id"},
    value_checks=[ValueCheck(*v) for v in _G_VALUES],
    references=[Reference(e, c, t, (tc,)) for e, c, t, tc in _G_REFS],
    people_sql=_people_sql("q_patients", "patient_id", "first_name", "last_name", "birth_date", "postal_code",
                           "status", phone="phone", email="email"),
    providers_sql="""
        WITH visits AS (SELECT provider_id, count(*) AS n FROM q_appointments GROUP BY ALL),
             patients AS (SELECT primary_provider_id AS provider_id, count(*) AS n FROM q_patients GROUP BY ALL)
        SELECT p.provider_id, concat_ws(' ', p.first_name, p.last_name) AS name, p.email, p.npi, p.status,
               coalesce(visits.n, 0) + coalesce(patients.n, 0) AS owned_records
        FROM q_providers p LEFT JOIN visits USING (provider_id) LEFT JOIN patients USING (provider_id)""",
    documents_sql="""
        SELECT document_id, patient_id, file_name AS name, try_cast(size_bytes AS BIGINT) AS size_bytes,
               _source_file AS source_file, file_path
        FROM q_documents""",
    document_entity="documents",
    required_entities=("patients", "providers"),
)

# --- Synthea CSV ----------------------------------------------------------------------------------

_S_REFS = [
    ("encounters", "patient", "patients", "id"), ("encounters", "provider", "providers", "id"),
    ("encounters", "organization", "organizations", "id"), ("providers", "organization", "organizations", "id"),
    ("claims", "patientid", "patients", "id"), ("claims", "providerid", "providers", "id"),
    ("procedures", "patient", "patients", "id"), ("procedures", "encounter", "encounters", "id"),
    ("conditions", "patient", "patients", "id"), ("conditions", "encounter", "encounters", "id"),
    ("medications", "patient", "patients", "id"), ("medications", "encounter", "encounters", "id"),
    ("payer_transitions", "patient", "patients", "id"), ("payer_transitions", "payer", "payers", "id"),
]
_S_VALUES = [
    ("patients", "birthdate", "date"), ("patients", "deathdate", "date"),
    ("encounters", "start", "datetime"), ("encounters", "stop", "datetime"),
    ("claims", "currentillnessdate", "datetime"), ("procedures", "start", "datetime"),
    ("organizations", "phone", "phone"), ("payers", "phone", "phone"),
]

SYNTHEA = SourceSpec(
    fmt="synthea",
    label="Synthea CSV export",
    keys={},
    value_checks=[ValueCheck(*v) for v in _S_VALUES],
    references=[Reference(e, c, t, (tc,)) for e, c, t, tc in _S_REFS],
    people_sql=_people_sql("q_patients", "id", "first", "last", "birthdate", "zip",
                           "CASE WHEN deathdate IS NULL THEN 'alive' ELSE 'deceased' END"),
    # Synthea providers have no email column at all: every one of them is missing an email.
    providers_sql="""
        SELECT p.id AS provider_id, p.name, {email} AS email, CAST(NULL AS VARCHAR) AS npi,
               CAST(NULL AS VARCHAR) AS status,
               (SELECT count(*) FROM q_encounters e WHERE e.provider = p.id) AS owned_records
        FROM q_providers p""",
    documents_sql=None,
    date_style="iso",
    required_entities=("patients", "providers", "encounters"),
)

# --- FHIR R4 Bulk Data ------------------------------------------------------------------------------

_F_REFS = [
    ("encounter", "patient_id", "patient", ("id",)),
    ("encounter", "practitioner_id", "practitioner", ("id", "npi")),
    ("documentreference", "patient_id", "patient", ("id",)),
    ("documentreference", "encounter_id", "encounter", ("id",)),
    ("procedure", "patient_id", "patient", ("id",)),
    ("procedure", "encounter_id", "encounter", ("id",)),
    ("condition", "patient_id", "patient", ("id",)),
    ("condition", "encounter_id", "encounter", ("id",)),
    ("coverage", "patient_id", "patient", ("id",)),
    ("claim", "patient_id", "patient", ("id",)),
    ("claim", "provider_id", "practitioner", ("id", "npi")),
    ("practitionerrole", "practitioner_id", "practitioner", ("id", "npi")),
]
_F_VALUES = [
    ("patient", "birth_date", "date"), ("patient", "email", "email"), ("patient", "phone", "phone"),
    ("practitioner", "email", "email"), ("practitioner", "phone", "phone"),
    ("organization", "phone", "phone"), ("encounter", "start", "datetime"), ("encounter", "end", "datetime"),
    ("documentreference", "date", "datetime"),
]

FHIR = SourceSpec(
    fmt="fhir",
    label="FHIR R4 Bulk Data export",
    keys={},
    value_checks=[ValueCheck(*v) for v in _F_VALUES],
    references=[Reference(e, c, t, tc) for e, c, t, tc in _F_REFS],
    people_sql=_people_sql("q_patient", "id", "given", "family", "birth_date", "postal_code",
                           "CASE WHEN deceased IS NULL THEN 'alive' ELSE 'deceased' END", phone="phone", email="email",
                           first_name="split_part(given, ' ', 1)"),
    providers_sql="""
        SELECT p.id AS provider_id, concat_ws(' ', p.given, p.family) AS name, p.email, p.npi,
               p.active AS status,
               (SELECT count(*) FROM q_encounter e WHERE e.practitioner_id IN (p.id, p.npi)) AS owned_records
        FROM q_practitioner p""",
    documents_sql="""
        SELECT id AS document_id, patient_id, coalesce(type, content_type) AS name,
               try_cast(data_size AS BIGINT) AS size_bytes, _source_file AS source_file,
               CAST(NULL AS VARCHAR) AS file_path
        FROM q_documentreference""",
    date_style="iso",
    people_entity="patient",
    provider_entity="practitioner",
    document_entity="documentreference",
    required_entities=("patient", "practitioner"),
)

SPECS: dict[str, SourceSpec] = {s.fmt: s for s in (GENERIC, SYNTHEA, FHIR)}
