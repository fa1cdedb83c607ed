"""The generic export's entities and their columns, in file order (docs/generic_export.md), and the
values a real export holds where a valid one belongs, which the entity writers plant as defects."""

from __future__ import annotations

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
