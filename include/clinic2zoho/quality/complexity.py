"""The migration's complexity grade: per source object, where it goes in Zoho and how much work
it takes, raised by what the checks found; then one grade for the whole migration."""

from __future__ import annotations

GRADES = {
    "A": "maps 1:1 onto a Zoho module, no rules needed",
    "B": "needs value maps or a split by a simple rule",
    "C": "needs rules with judgement or data fixes before it can load",
    "D": "cannot be migrated automatically: rebuild by hand in Zoho",
}
_SCORE = {"A": 1, "B": 2, "C": 3, "D": 4}
_LETTER = {v: k for k, v in _SCORE.items()}

# (object, Zoho target, base grade, why)
OBJECTS: dict[str, list[tuple[str, str, str, str]]] = {
    "generic": [
        ("clinics", "Accounts", "A", "one Account per clinic"),
        ("providers", "Users (record owners)", "B", "each provider is matched to a Zoho user by email"),
        ("patients", "Contacts / Leads", "B", "split by status: prospects and referral inquiries without visits "
                                              "become Leads; inactive and deceased patients are archived Contacts"),
        ("referral_sources", "Lead Source pick-list", "B", "free-text channels mapped onto Zoho's Lead Source values"),
        ("appointments", "Events / Tasks", "B", "visits with times become Events with an outcome pick-list; "
                                                "past visits without times become Tasks"),
        ("insurance_plans", "Insurance (custom module)", "B", "one record per plan, looked up to the Contact"),
        ("claims", "Billing_History / Invoices", "C", "every claim goes to Billing_History; claims with a balance "
                                                      "also become Invoices"),
        ("treatments", "Treatments (custom module)", "B", "one record per procedure code"),
        ("clinical_notes", "Notes", "B", "rich text (HTML, RTF) converted to plain text"),
        ("documents", "Attachments", "A", "uploaded as attachments of the Contact"),
        ("care_programs", "Care Programs (custom module)", "B", "custom object becomes a custom module"),
        ("program_enrollments", "Enrollments (linking module)", "C", "many-to-many relation needs a linking "
                                                                     "module with two lookups"),
        ("workflows", "Workflow rules / Blueprints", "D", "automations are not data: rebuild them from the "
                                                         "workflow rebuild reference"),
    ],
    "synthea": [
        ("organizations", "Accounts", "A", "one Account per organisation"),
        ("providers", "Users (record owners)", "C", "Synthea providers carry no email: every owner needs an "
                                                    "email from the overrides list"),
        ("patients", "Contacts", "B", "names carry numeric suffixes; deceased patients are archived"),
        ("encounters", "Events", "B", "encounter class mapped to an event type pick-list"),
        ("payers", "Insurance carriers", "B", "payer ids resolved to carrier names"),
        ("payer_transitions", "Insurance (custom module)", "B", "coverage periods per patient"),
        ("claims", "Billing_History / Invoices", "C", "claims carry payer ids, balances come from transactions"),
        ("claims_transactions", "Billing_History", "C", "transaction lines folded into their claim"),
        ("procedures", "Treatments (custom module)", "B", "one record per SNOMED-coded procedure"),
        ("conditions", "Conditions (custom module)", "B", "one record per condition"),
        ("medications", "Medications (custom module)", "B", "one record per prescription"),
        ("allergies", "Allergies (custom module)", "B", "one record per allergy"),
        ("immunizations", "Immunizations (custom module)", "B", "one record per dose"),
        ("careplans", "Care Plans (custom module)", "B", "one record per care plan"),
        ("observations", "Observations (custom module)", "C", "high volume: load selected codes or summarise"),
        ("devices", "Devices (custom module)", "C", "no natural Zoho home"),
        ("supplies", "Supplies (custom module)", "C", "no natural Zoho home"),
        ("imaging_studies", "Imaging (custom module)", "C", "no natural Zoho home; images stay in the PACS"),
    ],
    "fhir": [
        ("organization", "Accounts", "A", "one Account per organisation"),
        ("practitioner", "Users (record owners)", "B", "matched to Zoho users by email"),
        ("practitionerrole", "User roles", "B", "specialty and organisation of each practitioner"),
        ("location", "Accounts (sites)", "B", "locations folded into their organisation"),
        ("patient", "Contacts", "B", "names and telecom flattened from lists"),
        ("encounter", "Events", "B", "encounter class mapped to an event type pick-list"),
        ("documentreference", "Notes / Attachments", "C", "base64 note bodies decoded; binary attachments uploaded"),
        ("procedure", "Treatments (custom module)", "B", "one record per coded procedure"),
        ("condition", "Conditions (custom module)", "B", "one record per condition"),
        ("coverage", "Insurance (custom module)", "B", "one record per coverage"),
        ("claim", "Billing_History / Invoices", "C", "claim totals and items reshaped"),
        ("allergyintolerance", "Allergies (custom module)", "B", "one record per allergy"),
        ("immunization", "Immunizations (custom module)", "B", "one record per dose"),
        ("medicationrequest", "Medications (custom module)", "B", "one record per prescription"),
        ("device", "Devices (custom module)", "C", "no natural Zoho home"),
    ],
}


def _raise(entry: dict, grade: str, reason: str) -> None:
    if _SCORE[grade] > _SCORE[entry["grade"]]:
        entry["grade"] = grade
    entry["reasons"].append(reason)


def grade_source(fmt: str, source: dict) -> dict:
    """Grade each landed object of one source (a section of the report being built)."""
    landed = {c["entity"]: c["records"] for c in source["entities"]}
    known = {o[0]: o for o in OBJECTS.get(fmt, [])}
    objects: dict[str, dict] = {}
    for entity, records in landed.items():
        name, target, grade, why = known.get(entity, (entity, "custom module", "B", "one record per row"))
        objects[entity] = {"object": entity, "zoho": target, "records": records, "grade": grade, "reasons": [why]}

    providers = source.get("providers") or {}
    provider_entity = "providers" if fmt != "fhir" else "practitioner"
    missing = (providers.get("missing_email") or {}).get("count", 0)
    if missing and provider_entity in objects:
        _raise(objects[provider_entity], "C", f"{missing} of {providers['total']} providers have no email")
    unmatched = (providers.get("unmatched_in_zoho") or {}).get("count", 0)
    if unmatched and provider_entity in objects:
        _raise(objects[provider_entity], "B", f"{unmatched} provider emails match no Zoho user")

    people = "patient" if fmt == "fhir" else "patients"
    dupes = (source.get("duplicates") or {}).get("count", 0)
    if dupes and people in objects:
        _raise(objects[people], "C", f"{dupes} likely duplicate pairs to review and merge")

    for finding in source.get("invalid_values", []):
        if finding["entity"] in objects:
            _raise(objects[finding["entity"]], "C",
                   f"{finding['count']} invalid {finding['kind']} values in {finding['column']}")
    for finding in source.get("orphans", []):
        if finding["entity"] in objects:
            _raise(objects[finding["entity"]], "C",
                   f"{finding['count']} records point at an unknown {finding['target']} ({finding['column']})")

    docs = source.get("documents") or {}
    doc_entity = {"generic": "documents", "fhir": "documentreference"}.get(fmt)
    if doc_entity in objects:
        over = (docs.get("over_limit") or {}).get("count", 0)
        if over:
            _raise(objects[doc_entity], "C", f"{over} documents exceed the attachment limit")
        gone = (docs.get("missing_file") or {}).get("count", 0)
        if gone:
            _raise(objects[doc_entity], "C", f"{gone} document files are missing from the export")

    notes = source.get("notes") or {}
    note_entity = {"generic": "clinical_notes", "fhir": "documentreference"}.get(fmt)
    if note_entity in objects and notes.get("over_limit"):
        _raise(objects[note_entity], "C", f"{notes['over_limit']} notes are longer than "
                                          f"{notes['limit_chars']:,} characters and must be split")

    graded = [o for o in objects.values() if o["records"]]
    order = [o[0] for o in OBJECTS.get(fmt, [])]
    ranked = sorted(objects.values(), key=lambda o: (order.index(o["object"]) if o["object"] in order
                                                     else len(order), o["object"]))
    if not graded:
        return {"grade": None, "objects": ranked, "summary": "nothing landed"}
    mean = sum(_SCORE[o["grade"]] for o in graded) / len(graded)
    overall = _LETTER[min(4, max(1, int(mean + 0.5)))]
    counts = {g: sum(1 for o in graded if o["grade"] == g) for g in "ABCD"}
    summary = (f"objects graded A (1:1): {counts['A']}, B (value maps, simple rules): {counts['B']}, "
               f"C (rules, data fixes): {counts['C']}, D (rebuild by hand): {counts['D']}")
    return {"grade": overall, "score": round(mean, 2), "objects": ranked, "counts": counts, "summary": summary}
