"""The clinic model's pick-lists and the words vendors write for their values (English codes and
words, German, Spanish), and the value map from a vendor's vocabulary to the clinic's.

The clinic values are the generic export's (docs/generic_export.md; `sex` as the generator
writes it: F / M)."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from rapidfuzz import fuzz

from clinic2zoho.mapping.detectors import BOOLEAN_WORDS, SEX_WORDS, is_true
from clinic2zoho.mapping.header_words import normal

# (entity, column) -> clinic value -> words a vendor writes for it
PICKLISTS: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    ("patients", "sex"): {"F": tuple(SEX_WORDS["F"]), "M": tuple(SEX_WORDS["M"])},
    ("patients", "status"): {
        "Active": ("a", "active", "act", "current", "aktiv", "activo", "activa", "alta"),
        "Inactive": ("i", "inactive", "inact", "archived", "former", "dormant", "inaktiv", "inactivo", "inactiva",
                     "archiviert", "baja"),
        "Deceased": ("d", "deceased", "dec", "dead", "died", "expired", "verstorben", "fallecido", "fallecida"),
        "Prospect": ("p", "prospect", "lead", "potential", "new lead", "interessent", "prospecto", "potencial"),
        "Referral Inquiry": ("r", "referral inquiry", "referral enquiry", "referral", "inquiry", "enquiry",
                             "ueberweisungsanfrage", "zuweisungsanfrage", "anfrage", "derivacion",
                             "consulta derivacion", "solicitud"),
    },
    ("appointments", "outcome"): {
        "scheduled": ("scheduled", "sch", "sched", "booked", "confirmed", "pending", "future", "open", "planned",
                      "geplant", "gebucht", "bestaetigt", "programada", "agendada", "reservada", "pendiente"),
        "completed": ("completed", "complete", "att", "attended", "arrived", "seen", "done", "checked out",
                      "kept", "fulfilled", "finished", "wahrgenommen", "erschienen", "abgeschlossen",
                      "erledigt", "completada", "atendida", "realizada", "asistio"),
        "no-show": ("no show", "noshow", "dna", "did not attend", "did not arrive", "missed", "ns", "failed",
                    "nicht erschienen", "versaeumt", "no asistio", "ausente", "no presentado", "no se presento"),
        "cancelled": ("cancelled", "canceled", "cxl", "cancel", "canc", "storniert", "abgesagt", "cancelada",
                      "anulada"),
    },
    ("claims", "status"): {
        "draft": ("draft", "new", "entwurf", "borrador"),
        "submitted": ("submitted", "sent", "filed", "billed", "eingereicht", "versendet", "enviada", "presentada"),
        "pending": ("pending", "in process", "processing", "open", "in progress", "offen", "in bearbeitung",
                    "pendiente", "en proceso"),
        "paid": ("paid", "paid in full", "closed", "settled", "bezahlt", "beglichen", "pagada", "cobrada"),
        "partially_paid": ("partially paid", "partial", "part paid", "partial payment", "teilbezahlt",
                           "teilweise bezahlt", "pago parcial", "parcialmente pagada"),
        "denied": ("denied", "rejected", "declined", "abgelehnt", "denegada", "rechazada"),
        "appealed": ("appealed", "appeal", "in appeal", "widerspruch", "widersprochen", "apelada", "recurrida"),
        "written_off": ("written off", "write off", "wo", "writeoff", "abgeschrieben", "ausgebucht",
                        "cancelada deuda", "incobrable"),
    },
    ("insurance_plans", "priority"): {
        "primary": ("primary", "p", "1", "first", "pri", "prim", "primaer", "erstversicherung", "haupt", "primaria",
                    "principal"),
        "secondary": ("secondary", "s", "2", "second", "sec", "sekundaer", "zusatz", "zweitversicherung",
                      "secundaria"),
        "tertiary": ("tertiary", "t", "3", "third", "ter", "tertiaer", "terciaria"),
    },
    ("providers", "status"): {
        "active": ("active", "a", "current", "enabled", "aktiv", "activo", "activa"),
        "inactive": ("inactive", "i", "former", "disabled", "left", "inaktiv", "ausgeschieden", "inactivo",
                     "inactiva"),
    },
    ("patients", "preferred_contact_method"): {
        "email": ("email", "e mail", "electronic mail", "correo electronico"),
        "phone": ("phone", "telephone", "call", "tel", "phone call", "telefon", "anruf", "telefono", "llamada"),
        "sms": ("sms", "text", "text message", "txt", "texting", "mensaje", "mensaje de texto"),
        "mail": ("mail", "post", "letter", "postal", "postal mail", "brief", "briefpost", "correo postal", "carta"),
    },
    ("clinical_notes", "content_format"): {
        "html": ("html", "text html", "htm"), "rtf": ("rtf", "rich text", "application rtf", "text rtf"),
        "text": ("text", "plain", "plain text", "txt", "text plain"),
    },
    ("treatments", "code_system"): {
        "CPT": ("cpt", "cpt 4", "cpt4", "ama cpt"), "HCPCS": ("hcpcs",),
        "ICD10PCS": ("icd10pcs", "icd 10 pcs", "icd10 pcs", "pcs"),
    },
}

MATCH = 85  # rapidfuzz ratio at which a vendor word reads as a clinic value's word


def is_picklist(entity: str, column: str) -> bool:
    return (entity, column) in PICKLISTS


def flag_values(header: str) -> dict[str, str]:
    """The value map of a yes/no flag read as a two-valued status (after `parse: boolean`):
    `Active` = true reads active, `Inactive` = true reads inactive."""
    inverted = any(w in normal(header).split() for w in ("inactive", "inaktiv", "inactivo", "disabled", "left"))
    return {"true": "inactive", "false": "active"} if inverted else {"true": "active", "false": "inactive"}


def _flag_value(entity: str, column: str, value: str, header: str) -> str | None:
    if (entity, column) != ("providers", "status") or normal(value) not in BOOLEAN_WORDS:
        return None
    return flag_values(header)["true" if is_true(value) else "false"]


@lru_cache(maxsize=None)
def _words(entity: str, column: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """(normalised word -> clinic value, [(clinic value, normalised word)] for fuzzy matching)."""
    exact: dict[str, str] = {}
    fuzzy: list[tuple[str, str]] = []
    for choice, words in PICKLISTS[(entity, column)].items():
        for word in (choice, *words):
            w = normal(word)
            exact.setdefault(w, choice)
            fuzzy.append((choice, w))
    return exact, fuzzy


def clinic_value(entity: str, column: str, value: str, header: str = "", flag: bool = False) -> str | None:
    """The clinic value a vendor value stands for, or None. `flag`: the column is a yes/no flag."""
    choices = PICKLISTS[(entity, column)]
    if value in choices:
        return value
    if flag and (hit := _flag_value(entity, column, value, header)):
        return hit
    nv = normal(value)
    if not nv:
        return None
    exact, fuzzy = _words(entity, column)
    if nv in exact:
        return exact[nv]
    # a vendor's own abbreviation: the one value it begins (SCH → scheduled, E → email)
    starts = [c for c in choices if normal(c).startswith(nv)]
    if len(starts) == 1 and (len(nv) >= 2 or len(value.strip()) == 1):
        return starts[0]
    best, best_score = None, 0.0
    if len(nv) >= 4:
        for choice, w in fuzzy:
            if len(w) >= 4 and (score := fuzz.ratio(nv, w)) > best_score:
                best, best_score = choice, score
    return best if best_score >= MATCH else None


def value_map(entity: str, column: str, counts: Counter, header: str = "",
              flag: bool = False) -> tuple[dict[str, str], int, int, int]:
    """(source value -> clinic value for the values that differ, distinct values mapped,
    rows whose value has a clinic value, rows without one)."""
    out: dict[str, str] = {}
    mapped = hit_rows = miss_rows = 0
    for value, n in counts.items():
        clinic = clinic_value(entity, column, value, header, flag)
        if clinic is None:
            miss_rows += n
            continue
        mapped += 1
        hit_rows += n
        if clinic != value:
            out[value] = clinic
    return dict(sorted(out.items())), mapped, hit_rows, miss_rows
