"""The words of the vendor layouts (clinic2zoho.generator.layouts): each layout's header and file
name for a clinic column and entity, and the header styles a layout falls back on for a column
its dictionary does not name (a column added to the generic layout later still gets a header).

A key "entity.column" names a header for one entity only; a plain "column" key holds for every
entity with that column."""

from __future__ import annotations

# Header styles: the fallback for a column a layout's dictionary does not name.

def _words(column: str) -> list[str]:
    return [w for w in column.split("_") if w]


def title_style(column: str) -> str:
    return " ".join("ID" if w == "id" else w.capitalize() for w in _words(column))


def camel_style(column: str) -> str:
    words = _words(column)
    return words[0] + "".join("Id" if w == "id" else w.capitalize() for w in words[1:]) if words else column


_ABBREVIATIONS = {"patient": "PT", "provider": "PROV", "appointment": "APPT", "number": "NO",
                  "date": "DT", "address": "ADDR", "description": "DESC", "referral": "REF",
                  "source": "SRC", "program": "PGM", "amount": "AMT", "insurance": "INS",
                  "coordinator": "COORD", "primary": "PRI", "created": "CRT", "updated": "UPD"}


def abbreviated_style(column: str) -> str:
    return "_".join(_ABBREVIATIONS.get(w, w.upper()) for w in _words(column))


def german_style(column: str) -> str:
    # no dictionary entry: a vendor's German export keeps such a column's technical name, capitalised
    return "-".join(w.capitalize() for w in _words(column))


def upper_style(column: str) -> str:
    return column.upper()


TITLE_HEADERS = {
    "patient_id": "Patient ID", "clinic_id": "Clinic ID", "provider_id": "Provider ID",
    "first_name": "First Name", "last_name": "Last Name", "birth_date": "DOB", "sex": "Gender",
    "email": "Email Address", "patients.phone": "Mobile Phone", "phone": "Phone",
    "address_line": "Street Address", "postal_code": "Zip Code", "status": "Status",
    "referral_source_id": "Referral Source", "primary_provider_id": "Primary Provider",
    "created_at": "Created", "updated_at": "Last Modified", "appointment_id": "Appt ID",
    "visit_date": "Appt Date", "start_time": "Start", "end_time": "End", "appointment_type": "Visit Type",
    "reason": "Reason for Visit", "outcome": "Appt Status", "npi": "NPI",
    "plan_id": "Policy Record ID", "carrier": "Insurance Carrier", "policy_number": "Policy #",
    "group_id": "Group #", "claim_id": "Claim #", "cpt_code": "CPT", "amount_billed": "Billed",
    "amount_paid": "Paid", "balance": "Balance Due", "note_id": "Note ID", "content": "Note Text",
    "document_id": "Document ID", "file_path": "File Path", "size_bytes": "File Size",
    "email_opt_out": "No Email", "sms_opt_out": "No Text Messages", "preferred_contact_method": "Preferred Contact",
}
TITLE_FILES = {
    "clinics": "Locations.csv", "providers": "Staff.csv", "referral_sources": "Referral Sources.csv",
    "patients": "PatientList.csv", "appointments": "Appointments Export.csv",
    "insurance_plans": "Insurance Policies.csv", "claims": "Billing Claims.csv",
    "treatments": "Procedures Performed.csv", "clinical_notes": "Chart Notes.csv",
    "documents": "Document Index.csv", "care_programs": "Care Programs.csv",
    "program_enrollments": "Program Members.csv",
}

CAMEL_HEADERS = {"birth_date": "dateOfBirth", "sex": "gender", "email": "emailAddress",
                  "phone": "phoneNumber", "postal_code": "postcode", "address_line": "street",
                  "visit_date": "appointmentDate", "start_time": "startDateTime", "end_time": "endDateTime",
                  "outcome": "attendance", "created_at": "createdOn", "updated_at": "modifiedOn",
                  "content": "noteBody", "file_path": "attachmentPath"}
CAMEL_FILES = {"patients": "patients_export.csv", "appointments": "bookings.csv",
                "providers": "practitioners.csv", "clinics": "sites.csv", "clinical_notes": "consultNotes.csv",
                "documents": "attachments.csv", "insurance_plans": "healthFunds.csv", "claims": "invoices.csv"}

ABBR_HEADERS = {"patient_id": "PT_ID", "first_name": "FNAME", "last_name": "LNAME", "birth_date": "DOB",
                 "sex": "SEX", "email": "EMAIL", "phone": "PH", "postal_code": "ZIP", "address_line": "ADDR1",
                 "city": "CITY", "state": "ST", "status": "STAT", "appointment_id": "APPT_ID",
                 "visit_date": "APPT_DT", "start_time": "APPT_START", "end_time": "APPT_END",
                 "appointment_type": "APPT_TYP", "outcome": "APPT_OUTCM", "provider_id": "PROV_ID",
                 "clinic_id": "LOC_ID", "primary_provider_id": "PCP_ID", "referral_source_id": "REF_SRC",
                 "created_at": "CRT_DTTM", "updated_at": "UPD_DTTM", "claim_id": "CLM_NO",
                 "amount_billed": "CHG_AMT", "amount_paid": "PMT_AMT", "balance": "BAL_AMT",
                 "providers.full_name": "PROV_NAME", "email_opt_out": "EML_OPTOUT", "sms_opt_out": "SMS_OPTOUT",
                 "preferred_contact_method": "PREF_CONTACT"}
ABBR_FILES = {"patients": "PT.csv", "appointments": "APPT.csv", "providers": "PROV.csv", "clinics": "LOC.csv",
               "claims": "CLM.csv", "treatments": "PROC.csv", "clinical_notes": "NOTES.csv",
               "documents": "DOCS.csv", "insurance_plans": "INS.csv", "referral_sources": "REFSRC.csv",
               "care_programs": "PGM.csv", "program_enrollments": "PGM_MBR.csv"}

GERMAN_HEADERS = {
    "patient_id": "Patienten-Nr", "clinic_id": "Praxis-Nr", "provider_id": "Behandler-Nr",
    "first_name": "Vorname", "last_name": "Nachname", "birth_date": "Geburtsdatum", "sex": "Geschlecht",
    "email": "E-Mail", "phone": "Telefon", "address_line": "Straße", "city": "Ort", "state": "Bundesland",
    "postal_code": "PLZ", "status": "Status", "referral_source_id": "Zuweiser-Nr",
    "primary_provider_id": "Hausarzt-Nr", "created_at": "Angelegt am", "updated_at": "Geändert am",
    "appointment_id": "Termin-Nr", "visit_date": "Termindatum", "start_time": "Beginn", "end_time": "Ende",
    "appointment_type": "Terminart", "reason": "Anlass", "outcome": "Terminstatus",
    "name": "Bezeichnung", "website": "Webseite", "specialty": "Fachrichtung", "npi": "Arztnummer",
    "category": "Kategorie", "referral_sources.name": "Zuweiser", "plan_id": "Versicherungs-Nr",
    "priority": "Rang", "carrier": "Kostenträger", "policy_number": "Versichertennummer",
    "group_id": "Gruppen-Nr", "coverage_type": "Tarif", "subscriber_name": "Hauptversicherter",
    "effective_date": "Gültig ab", "termination_date": "Gültig bis", "claim_id": "Rechnungs-Nr",
    "service_date": "Leistungsdatum", "cpt_code": "Leistungsziffer",
    "amount_billed": "Betrag", "amount_paid": "Bezahlt", "balance": "Offen", "payer": "Zahler",
    "submitted_at": "Eingereicht am", "treatment_id": "Leistungs-Nr", "code_system": "Katalog",
    "code": "Ziffer", "description": "Beschreibung", "treatment_date": "Behandlungsdatum",
    "treatments.outcome": "Ergebnis", "note_id": "Notiz-Nr", "note_date": "Notiz vom", "note_type": "Notizart",
    "content_format": "Textformat", "content": "Text", "document_id": "Dokument-Nr", "file_name": "Dateiname",
    "file_path": "Dateipfad", "mime_type": "Dateityp", "size_bytes": "Größe (Bytes)",
    "document_type": "Dokumentart", "program_id": "Programm-Nr", "start_date": "Startdatum",
    "coordinator_provider_id": "Koordinator-Nr", "enrollment_id": "Teilnahme-Nr", "enrolled_on": "Eingeschrieben am",
    "role": "Rolle", "care_programs.name": "Programm", "clinics.name": "Praxis",
    "email_opt_out": "Keine E-Mails", "sms_opt_out": "Keine SMS", "preferred_contact_method": "Bevorzugter Kontakt",
}
GERMAN_FILES = {
    "clinics": "Praxen.csv", "providers": "Behandler.csv", "referral_sources": "Zuweiser.csv",
    "patients": "Patienten.csv", "appointments": "Termine.csv", "insurance_plans": "Versicherungen.csv",
    "claims": "Rechnungen.csv", "treatments": "Leistungen.csv", "clinical_notes": "Notizen.csv",
    "documents": "Dokumente.csv", "care_programs": "Programme.csv", "program_enrollments": "Programmteilnahmen.csv",
}

SNAKE_HEADERS = {"patient_id": "PATIENT_NUMBER", "provider_id": "PROVIDER_NUMBER", "clinic_id": "SITE_NUMBER",
                  "appointment_id": "APPOINTMENT_NUMBER", "birth_date": "DATE_OF_BIRTH", "sex": "GENDER_CODE",
                  "phone": "PHONE_NUMBER", "email": "EMAIL_ADDRESS", "postal_code": "POSTAL_CODE",
                  "visit_date": "APPOINTMENT_DATE", "start_time": "START_DATETIME", "end_time": "END_DATETIME",
                  "created_at": "CREATED_TIMESTAMP", "updated_at": "UPDATED_TIMESTAMP"}


def snake_file_name(entity: str) -> str:
    short = {"patients": "pat", "appointments": "appt", "providers": "prov", "clinics": "site",
             "referral_sources": "refsrc", "insurance_plans": "ins", "claims": "clm", "treatments": "proc",
             "clinical_notes": "note", "documents": "doc", "care_programs": "pgm",
             "program_enrollments": "pgm_mbr"}.get(entity, entity)
    return f"export_{short}_2024.csv"


# ---------------------------------------------------------------------------------------------
# The `random:<seed>` layout's pools (layouts.random_layout): words nobody tuned the proposer
# against. They are deliberately NOT in clinic2zoho.mapping.header_words (tests check it), so the
# random layout measures how the proposer does on a vocabulary it has never seen; a layout
# picks, per column, either one of these or the clinic name in its header style.

RANDOM_SYNONYMS: dict[str, tuple[str, ...]] = {
    "patient_id": ("client ref", "person key", "subject no"),
    "clinic_id": ("branch ref", "premises code", "outlet ref"),
    "provider_id": ("carer ref", "treating clinician ref", "attending ref"),
    "first_name": ("christian name", "called", "personal name"),
    "last_name": ("family", "second name", "name last"),
    "birth_date": ("nativity", "natal day", "arrival on earth"),
    "sex": ("biological sex", "sex at birth", "m f"),
    "email": ("electronic address", "inbox", "mail addr"),
    "phone": ("contact tel no", "best number", "dial"),
    "address_line": ("house and street", "line 1", "residence"),
    "city": ("municipality", "township", "burgh"),
    "postal_code": ("zip5", "mail code", "sort area"),
    "appointment_id": ("slot ref", "booking key", "session no"),
    "visit_date": ("day booked", "session day", "slot day"),
    "start_time": ("slot start", "session from", "commences"),
    "end_time": ("slot finish", "session until", "concludes"),
    "appointment_type": ("slot kind", "session category", "booking kind"),
    "reason": ("presenting complaint", "why seen", "concern"),
    "created_at": ("keyed on", "first saved", "inserted"),
    "updated_at": ("touched", "last saved", "revised"),
    "claim_id": ("account ref", "statement no", "billing ref"),
    "service_date": ("rendered on", "delivered on", "care day"),
    "amount_billed": ("gross", "charged", "invoiced sum"),
    "amount_paid": ("remitted", "settled sum", "takings"),
    "balance": ("remaining", "net due", "arrears"),
    "carrier": ("underwriter", "fund name", "scheme"),
    "policy_number": ("cover ref", "membership no", "scheme no"),
    "note_date": ("documented", "entry day", "recorded"),
    "content": ("write up", "prose", "entry text"),
    "file_name": ("attachment", "upload", "stored as"),
    "size_bytes": ("weight", "length b", "octets"),
    "enrolled_on": ("signed up", "commenced", "onboarded"),
}
RANDOM_FILES: dict[str, tuple[str, ...]] = {
    "clinics": ("premises", "outlets", "branches list"),
    "providers": ("clinicians roster", "workforce", "carers"),
    "patients": ("clients list", "register", "people master"),
    "appointments": ("diary", "sessions", "slots"),
    "claims": ("statements", "accounts receivable", "ledger"),
    "clinical_notes": ("charting", "case notes", "narratives"),
    "documents": ("uploads", "scanned", "attachments index"),
}


def kebab_style(column: str) -> str:
    return "-".join(_words(column))


def dotted_style(column: str) -> str:
    return ".".join(w.capitalize() for w in _words(column))


# (style name, header style for a clinic column, the same style for a synonym's words)
RANDOM_STYLES = (("title", title_style), ("camel", camel_style), ("upper", upper_style),
                 ("kebab", kebab_style), ("dotted", dotted_style), ("lower", lambda c: c.replace("_", "")))
