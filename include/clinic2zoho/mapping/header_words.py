"""The words clinic exports use for the clinic model's files and columns: English, with the usual
abbreviations, plus German and Spanish. The source-map proposer compares headers and file names
with these (after `normal`), so a vendor's `DOB`, `Geburtsdatum` or `fecha_nacimiento` reads as
`birth_date`. Values decide between candidates the words leave open (detectors.py)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# clinic entity -> words a file of that entity is named with
ENTITY_WORDS: dict[str, tuple[str, ...]] = {
    "clinics": ("clinics", "clinic", "locations", "location", "practices", "practice", "sites", "site",
                "offices", "facilities", "branches", "loc", "praxen", "praxis", "standorte", "clinicas",
                "centros", "sedes", "consultorios"),
    "providers": ("providers", "provider", "prov", "doctors", "practitioners", "physicians", "clinicians",
                  "staff", "users", "resources", "behandler", "aerzte", "arzt", "therapeuten", "medicos",
                  "profesionales", "doctores"),
    "referral_sources": ("referral sources", "referral source", "referrals", "lead sources", "marketing sources",
                         "sources", "ref src", "refsrc", "zuweiser", "ueberweiser", "empfehlungen",
                         "fuentes", "origen", "derivaciones"),
    "patients": ("patients", "patient", "patient list", "pt", "pat", "clients", "demographics", "people",
                 "persons", "members", "patienten", "pacientes", "paciente"),
    "appointments": ("appointments", "appointment", "appt", "appts", "visits", "encounters", "bookings",
                     "schedule", "calendar", "termine", "termin", "besuche", "citas", "visitas", "agenda"),
    "insurance_plans": ("insurance plans", "insurance", "ins", "policies", "insurance policies", "coverage",
                        "coverages", "health funds", "plans", "versicherungen", "kostentraeger", "seguros",
                        "polizas", "aseguradoras"),
    "claims": ("claims", "claim", "clm", "billing", "invoices", "bills", "charges", "transactions",
               "rechnungen", "abrechnungen", "abrechnung", "facturas", "reclamaciones", "cobros"),
    "treatments": ("treatments", "procedures", "proc", "procedures performed", "services", "services rendered",
                   "behandlungen", "leistungen", "tratamientos", "procedimientos"),
    "clinical_notes": ("clinical notes", "notes", "note", "chart notes", "progress notes", "consult notes",
                       "soap notes", "notizen", "dokumentation", "verlauf", "notas", "notas clinicas",
                       "evoluciones"),
    "documents": ("documents", "document index", "docs", "doc", "attachments", "files", "scans", "dokumente",
                  "anhaenge", "dateien", "documentos", "adjuntos", "archivos"),
    "care_programs": ("care programs", "care programmes", "programs", "programmes", "pgm", "programme",
                      "programas", "programa"),
    "program_enrollments": ("program enrollments", "program enrolments", "enrollments", "enrolments",
                            "program members", "pgm mbr", "memberships", "participants", "programmteilnahmen",
                            "teilnahmen", "einschreibungen", "inscripciones", "participantes"),
}

# clinic column -> header words (any entity holding the column)
COLUMN_WORDS: dict[str, tuple[str, ...]] = {
    "patient_id": ("patient id", "patient number", "patient no", "patient nr", "pt id", "pat id", "pat nr",
                   "patnr", "mrn", "medical record number", "chart number", "chart no", "patient",
                   "patienten nr", "patientennummer", "patienten id", "id paciente", "paciente id",
                   "numero paciente", "nro paciente", "paciente", "nhc", "historia clinica"),
    "provider_id": ("provider id", "provider number", "provider no", "prov id", "doctor id", "practitioner id",
                    "physician id", "clinician id", "provider", "practitioner", "doctor", "rendering provider",
                    "behandler nr", "behandler id", "arzt nr", "arzt id", "behandler", "id medico", "medico id",
                    "profesional id", "medico", "profesional"),
    "clinic_id": ("clinic id", "clinic number", "location id", "loc id", "site id", "site number",
                  "practice id", "office id", "facility id", "branch id", "clinic", "location", "site",
                  "praxis nr", "praxis id", "standort nr", "standort id", "praxis", "standort", "id clinica",
                  "clinica id", "centro id", "id centro", "clinica", "centro", "sede"),
    "appointment_id": ("appointment id", "appointment number", "appt id", "appt no", "visit id", "encounter id",
                       "booking id", "appointment", "visit", "encounter", "termin nr", "termin id", "termin",
                       "id cita", "cita id", "numero cita", "cita", "visita"),
    "referral_source_id": ("referral source id", "referral source", "ref src", "ref source", "referral id",
                           "referral", "referred by", "lead source", "source", "how heard", "zuweiser nr",
                           "zuweiser id", "zuweiser", "ueberweiser", "fuente", "origen", "derivado por",
                           "id fuente"),
    "primary_provider_id": ("primary provider id", "primary provider", "pcp id", "pcp", "primary care provider",
                            "primary doctor", "primary physician", "usual provider", "assigned provider",
                            "hausarzt nr", "hausarzt", "stammarzt", "medico de cabecera", "medico cabecera",
                            "medico principal"),
    "coordinator_provider_id": ("coordinator provider id", "coordinator id", "coordinator", "program lead",
                                "lead provider", "koordinator nr", "koordinator", "coordinador",
                                "id coordinador"),
    "program_id": ("program id", "programme id", "pgm id", "program", "programme", "care program",
                   "programm nr", "programm id", "programm", "programa id", "id programa", "programa"),
    "plan_id": ("plan id", "policy id", "policy record id", "insurance id", "coverage id", "ins id",
                "versicherungs nr", "versicherung id", "id seguro", "id poliza"),
    "claim_id": ("claim id", "claim number", "claim no", "clm no", "clm id", "invoice id", "invoice number",
                 "bill id", "charge id", "rechnungs nr", "rechnungsnummer", "rechnung id", "id factura",
                 "numero factura", "factura"),
    "treatment_id": ("treatment id", "procedure id", "service id", "proc id", "line id", "leistungs nr",
                     "behandlungs nr", "id tratamiento", "id procedimiento"),
    "note_id": ("note id", "note number", "chart note id", "notiz nr", "notiz id", "id nota"),
    "document_id": ("document id", "doc id", "attachment id", "file id", "dokument nr", "dokument id",
                    "id documento"),
    "enrollment_id": ("enrollment id", "enrolment id", "membership id", "member id", "participation id",
                      "teilnahme nr", "teilnahme id", "id inscripcion"),
    "referral_sources.referral_source_id": ("id", "source id", "code"),
    "full_name": ("name", "full name", "patient name", "pt name", "provider name", "prov name", "doctor name",
                  "practitioner name", "display name", "last first", "first last", "name first last",
                  "vollstaendiger name", "name vorname", "nachname vorname", "nombre completo",
                  "apellidos nombre", "nombre y apellidos"),
    "first_name": ("first name", "fname", "given name", "forename", "first", "vorname", "nombre",
                   "primer nombre"),
    "last_name": ("last name", "lname", "surname", "family name", "last", "nachname", "familienname",
                  "apellido", "apellidos", "primer apellido"),
    "birth_date": ("birth date", "date of birth", "dob", "birthdate", "birthday", "born", "dob date",
                   "geburtsdatum", "geb datum", "geboren", "fecha nacimiento", "fecha de nacimiento",
                   "nacimiento", "f nacimiento"),
    "sex": ("sex", "gender", "gender code", "sex code", "geschlecht", "sexo", "genero"),
    "email": ("email", "e mail", "email address", "e mail address", "mail", "correo", "correo electronico",
              "email adresse"),
    "phone": ("phone", "phone number", "telephone", "tel", "ph", "mobile", "mobile phone", "cell", "cell phone",
              "home phone", "contact number", "telefon", "telefonnummer", "handy", "mobil", "telefono",
              "movil", "celular"),
    "address_line": ("address", "address line", "address 1", "addr", "addr 1", "address line 1", "street",
                     "street address", "strasse", "anschrift", "adresse", "strasse hausnummer", "direccion",
                     "calle", "domicilio"),
    "city": ("city", "town", "suburb", "locality", "ort", "stadt", "wohnort", "ciudad", "localidad",
             "municipio", "poblacion"),
    "state": ("state", "st", "province", "region", "state province", "territory", "county state", "bundesland",
              "land", "provincia", "estado", "comunidad", "comunidad autonoma"),
    "postal_code": ("postal code", "postcode", "post code", "zip", "zip code", "zipcode", "postal", "plz",
                    "postleitzahl", "codigo postal", "cp", "cod postal"),
    "status": ("status", "stat", "state", "patient status", "record status", "active", "is active",
               "active yn", "active flag", "aktiv", "zustand", "estado", "activo"),
    "created_at": ("created at", "created", "created on", "created date", "date created", "creation date",
                   "crt dttm", "created timestamp", "entered", "date entered", "added", "angelegt am",
                   "angelegt", "erstellt am", "erstellt", "erfasst am", "fecha creacion", "creado",
                   "fecha alta", "alta"),
    "updated_at": ("updated at", "updated", "updated on", "last modified", "modified", "modified on",
                   "last updated", "date modified", "upd dttm", "updated timestamp", "changed", "geaendert am",
                   "geaendert", "aktualisiert", "letzte aenderung", "fecha modificacion", "modificado",
                   "actualizado"),
    "visit_date": ("visit date", "appointment date", "appt date", "appt dt", "date", "date of service",
                   "scheduled date", "termindatum", "datum", "termin datum", "fecha cita", "fecha",
                   "fecha visita"),
    "start_time": ("start time", "start", "start date time", "start datetime", "starts", "from", "appt start",
                   "begin", "time from", "beginn", "von", "startzeit", "inicio", "hora inicio", "desde"),
    "end_time": ("end time", "end", "end date time", "end datetime", "ends", "to", "appt end", "finish",
                 "time to", "ende", "bis", "endzeit", "fin", "hora fin", "hasta"),
    "appointment_type": ("appointment type", "appt type", "appt typ", "visit type", "type", "booking type",
                         "service", "terminart", "termintyp", "art", "tipo cita", "tipo", "tipo visita"),
    "reason": ("reason", "reason for visit", "visit reason", "chief complaint", "complaint", "purpose",
               "anlass", "grund", "besuchsgrund", "motivo", "motivo consulta"),
    "outcome": ("outcome", "appt status", "appointment status", "attendance", "appt outcm", "result",
                "visit status", "status", "terminstatus", "ergebnis", "erschienen", "estado cita",
                "asistencia", "resultado"),
    "name": ("name", "title", "label", "description name", "bezeichnung", "nombre", "denominacion"),
    "website": ("website", "web site", "url", "web", "homepage", "web address", "webseite", "internet",
                "sitio web", "pagina web"),
    "npi": ("npi", "npi number", "national provider identifier", "provider npi", "arztnummer", "lanr",
            "numero colegiado", "colegiado"),
    "specialty": ("specialty", "speciality", "specialisation", "specialization", "discipline", "department",
                  "fachrichtung", "fachgebiet", "especialidad"),
    "category": ("category", "type", "kind", "group", "channel", "kategorie", "art", "categoria", "tipo"),
    "priority": ("priority", "rank", "order", "coverage order", "sequence", "primary secondary", "cob",
                 "rang", "reihenfolge", "prioridad", "orden"),
    "carrier": ("carrier", "insurance carrier", "insurer", "insurance company", "payer name", "health fund",
                "fund", "insurance", "kostentraeger", "krankenkasse", "versicherung", "aseguradora",
                "compania", "mutua"),
    "policy_number": ("policy number", "policy no", "policy", "member number", "member id", "subscriber id",
                      "insurance number", "versichertennummer", "versicherungsnummer", "numero poliza",
                      "poliza"),
    "group_id": ("group id", "group number", "group no", "group", "gruppen nr", "gruppe", "grupo",
                 "numero grupo"),
    "coverage_type": ("coverage type", "plan type", "coverage", "product", "tarif", "versicherungsart",
                      "tipo cobertura", "cobertura"),
    "subscriber_name": ("subscriber name", "subscriber", "policy holder", "policyholder", "insured name",
                        "insured", "hauptversicherter", "versicherungsnehmer", "titular", "asegurado"),
    "effective_date": ("effective date", "effective", "start date", "valid from", "coverage start",
                       "gueltig ab", "beginn", "fecha efectiva", "vigente desde", "fecha inicio"),
    "termination_date": ("termination date", "terminated", "end date", "valid to", "valid until",
                         "coverage end", "expiry date", "gueltig bis", "ende", "fecha fin", "vigente hasta",
                         "fecha baja"),
    "service_date": ("service date", "date of service", "dos", "svc date", "leistungsdatum", "datum",
                     "fecha servicio", "fecha"),
    "cpt_code": ("cpt code", "cpt", "procedure code", "proc code", "service code", "billing code", "hcpcs",
                 "leistungsziffer", "gebuehrenziffer", "goae ziffer", "codigo", "codigo procedimiento"),
    "amount_billed": ("amount billed", "billed", "billed amount", "charge", "charges", "chg amt", "charge amount",
                      "amount", "total", "fee", "betrag", "rechnungsbetrag", "importe", "importe facturado",
                      "monto"),
    "amount_paid": ("amount paid", "paid", "paid amount", "payment", "payments", "pmt amt", "received",
                    "bezahlt", "gezahlt", "zahlung", "pagado", "importe pagado", "cobrado"),
    "balance": ("balance", "balance due", "outstanding", "due", "bal amt", "owing", "open", "offen",
                "offener betrag", "saldo", "rest", "pendiente", "saldo pendiente"),
    "payer": ("payer", "payor", "paid by", "insurance", "payer name", "zahler", "kostentraeger", "pagador"),
    "submitted_at": ("submitted at", "submitted", "submitted on", "submission date", "date submitted", "sent",
                     "filed", "eingereicht am", "eingereicht", "fecha envio", "enviado"),
    "code_system": ("code system", "coding system", "system", "code type", "catalog", "catalogue",
                    "katalog", "codesystem", "sistema", "catalogo"),
    "code": ("code", "procedure code", "service code", "ziffer", "kode", "codigo"),
    "description": ("description", "desc", "details", "text", "procedure", "service description",
                    "beschreibung", "bezeichnung", "descripcion", "detalle"),
    "treatment_date": ("treatment date", "procedure date", "date performed", "performed", "service date",
                       "date", "behandlungsdatum", "datum", "fecha tratamiento", "fecha"),
    "note_date": ("note date", "date", "written", "written at", "charted", "entry date", "notiz vom", "datum",
                  "fecha nota", "fecha"),
    "note_type": ("note type", "type", "category", "template", "notizart", "art", "tipo nota", "tipo"),
    "content_format": ("content format", "format", "text format", "body format", "mime", "textformat",
                       "formato"),
    "content": ("content", "note", "note text", "body", "text", "note body", "narrative", "inhalt", "notiz",
                "texto", "contenido", "nota"),
    "file_name": ("file name", "filename", "name", "original name", "dateiname", "nombre archivo",
                  "nombre fichero"),
    "file_path": ("file path", "path", "location", "attachment path", "relative path", "dateipfad", "pfad",
                  "ruta", "ruta archivo"),
    "mime_type": ("mime type", "content type", "mime", "file type", "media type", "dateityp", "tipo archivo",
                  "tipo mime"),
    "size_bytes": ("size bytes", "size", "file size", "bytes", "length", "groesse bytes", "groesse",
                   "dateigroesse", "tamano", "tamano bytes"),
    "document_type": ("document type", "doc type", "type", "category", "dokumentart", "dokumenttyp",
                      "tipo documento", "tipo"),
    "start_date": ("start date", "started", "start", "launched", "startdatum", "beginn", "fecha inicio",
                   "inicio"),
    "enrolled_on": ("enrolled on", "enrolment date", "enrollment date", "enrolled", "joined", "date joined",
                    "eingeschrieben am", "beitritt", "fecha inscripcion", "inscrito"),
    "role": ("role", "member role", "participant role", "rolle", "funktion", "rol", "funcion"),
    "email_opt_out": ("email opt out", "e mail opt out", "email optout", "opt out email", "no email",
                      "do not email", "email unsubscribed", "unsubscribed", "email abgemeldet", "keine e mail",
                      "e mail widerspruch", "werbewiderspruch e mail", "baja email", "no enviar email",
                      "baja correo"),
    "sms_opt_out": ("sms opt out", "text opt out", "sms optout", "opt out sms", "no sms", "do not text",
                    "no texts", "no text messages", "no text", "sms abgemeldet", "keine sms", "sms widerspruch", "baja sms", "no enviar sms"),
    "preferred_contact_method": ("preferred contact method", "contact method", "preferred contact",
                                 "contact preference", "preferred channel", "communication preference",
                                 "pref contact", "kontaktweg", "bevorzugter kontakt", "bevorzugter kontaktweg",
                                 "kontaktart", "metodo contacto", "contacto preferido", "metodo de contacto"),
    # per-entity meanings of a shared column name ("entity.column" overrides the plain entry)
    "clinics.name": ("name", "clinic name", "clinic", "location name", "location", "practice name",
                     "site name", "praxis", "praxisname", "standort", "nombre clinica", "clinica", "centro"),
    "referral_sources.name": ("name", "source name", "referral source", "source", "zuweiser", "quelle",
                              "fuente", "origen"),
    "care_programs.name": ("name", "program name", "programme name", "program", "programm", "programa"),
    "treatments.outcome": ("outcome", "result", "response", "ergebnis", "resultado"),
    "providers.status": ("status", "active", "is active", "active yn", "active flag", "enabled", "aktiv",
                         "activo"),
    "claims.status": ("status", "claim status", "state", "rechnungsstatus", "estado", "estado factura"),
    "patients.status": ("status", "patient status", "record status", "state", "patientenstatus", "estado"),
    "appointments.clinic_id": ("clinic id", "location id", "site id", "clinic", "location", "site", "room site",
                               "praxis nr", "standort", "centro", "clinica"),
}

# abbreviations vendors write in headers, spelled out as a second reading of the header
ABBREVIATIONS = {
    "pt": "patient", "pat": "patient", "prov": "provider", "appt": "appointment", "dt": "date",
    "dttm": "datetime", "addr": "address", "desc": "description", "ref": "referral", "src": "source",
    "pgm": "program", "amt": "amount", "ins": "insurance", "coord": "coordinator", "pri": "primary",
    "crt": "created", "upd": "updated", "no": "number", "nr": "number", "num": "number", "dob": "birth date",
    "tel": "phone", "ph": "phone", "zip": "postal code", "typ": "type", "loc": "location", "clm": "claim",
    "chg": "charge", "pmt": "payment", "bal": "balance", "svc": "service", "proc": "procedure",
    "doc": "document", "mbr": "member", "stat": "status", "yn": "", "fname": "first name",
    "lname": "last name", "outcm": "outcome", "pref": "preferred", "eml": "email", "cd": "code", "mod": "modified", "enr": "enrollment",
    "sz": "size", "eff": "effective", "term": "termination", "grp": "group", "pol": "policy",
    "sub": "subscriber", "svc dt": "service date", "tx": "treatment", "trx": "treatment",
}

# the header of an entity's key may be a bare `ID`, `Nr`, `No`, `Code`
KEY_WORDS = ("id", "nr", "no", "number", "nummer", "num", "code", "key", "numero", "record id", "row id")

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@lru_cache(maxsize=1 << 16)
def normal(text: str) -> str:
    """`dateOfBirth`, `DATE_OF_BIRTH`, `Date of Birth` → `date of birth`; `Größe` → `groesse`,
    `Teléfono` → `telefono`; `#` reads as `no`."""
    text = _CAMEL.sub(" ", text.strip().lstrip("\ufeff").translate(_UMLAUTS)).replace("#", " no ")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(t for t in re.split(r"[^a-z0-9]+", text) if t)


def expanded(text: str) -> str:
    """A normalised header with its abbreviations spelled out: `pt dob` → `patient birth date`."""
    return " ".join(w for w in (ABBREVIATIONS.get(t, t) for t in text.split()) if w)


@lru_cache(maxsize=None)
def column_words(entity: str, column: str) -> tuple[str, ...]:
    """The words a header naming `entity.column` may use: the column's own name first."""
    own = (normal(column),)
    return own + tuple(normal(w) for w in COLUMN_WORDS.get(f"{entity}.{column}", ())
                       + COLUMN_WORDS.get(column, ()))


@lru_cache(maxsize=None)
def entity_words(entity: str) -> tuple[str, ...]:
    return (normal(entity),) + tuple(normal(w) for w in ENTITY_WORDS.get(entity, ()))
