"""How well a header's values fit what a clinic column holds, for the source-map proposal
(source_propose.py): the kind of values each clinic column expects, the fit of a file's values to
it with the evidence (counts and shares, never a patient's value), and the column score that
combines the fit with the header's name."""

from __future__ import annotations

from dataclasses import dataclass, field

from clinic2zoho.mapping.detectors import ValueProfile, boolean_values
from clinic2zoho.mapping.source_files import REFERENCE, SourceFile
from clinic2zoho.mapping.source_map import COLUMN_KINDS, KEYS
from clinic2zoho.mapping.value_words import is_picklist, value_map

# clinic column holding another entity's key -> that entity
REFERENCES = {"patient_id": "patients", "provider_id": "providers", "primary_provider_id": "providers",
              "coordinator_provider_id": "providers", "clinic_id": "clinics", "appointment_id": "appointments",
              "referral_source_id": "referral_sources", "program_id": "care_programs"}
# what a clinic column's values look like (columns not listed: short labels)
EXPECT = {
    "email": "email", "phone": "phone", "website": "url", "npi": "npi", "cpt_code": "cpt", "postal_code": "postal",
    "state": "state", "city": "place", "address_line": "address", "first_name": "name_word",
    "last_name": "name_word", "subscriber_name": "person_name", "sex": "sex", "size_bytes": "integer",
    "mime_type": "mime", "file_name": "file_name", "file_path": "file_path", "content": "long_text",
    "description": "text", "reason": "text", "code": "code", "policy_number": "identifier",
    "group_id": "identifier", "body": "long_text", "subject": "text",
    **{c: k for c, k in COLUMN_KINDS.items() if k in ("date", "datetime", "amount", "boolean", "integer")},
}
# values alone may propose these (a weak header still takes the column when the values agree)
DISTINCTIVE = {"email", "url", "npi", "sex", "mime", "file_path", "date", "datetime", "reference",
               "long_text", "amount", "phone", "postal", "state"}


@dataclass
class Context:
    """What the column scoring knows of the export: which file each entity is (once decided)."""
    files: dict[str, SourceFile]
    entity_file: dict[str, str] = field(default_factory=dict)  # entity -> relative file
    entity_key: dict[str, str] = field(default_factory=dict)  # entity -> key header

    def reference_share(self, f: SourceFile, header: str, target: str | None) -> tuple[float, str | None]:
        """Share of the column's values found in `target`'s key (any file's key when the target's
        file is not decided), with that file."""
        best, where = 0.0, None
        for ref in f.references:
            if ref.column != header:
                continue
            if target is not None and target in self.entity_file:
                if ref.target != self.entity_file[target] or ref.target_key != self.entity_key.get(target,
                                                                                                    ref.target_key):
                    continue
            if ref.share > best:
                best, where = ref.share, ref.target
        return best, where


def expected_kind(entity: str, column: str) -> str:
    """What the clinic column's values look like: key, reference, picklist, an EXPECT kind or label."""
    if column == KEYS[entity]:
        return "key"
    if column in REFERENCES:
        return "reference"
    if column == "full_name":
        return "person_name"
    if is_picklist(entity, column):
        return "picklist"
    return EXPECT.get(column, "label")


def _clearly_other(p: ValueProfile, kind: str) -> str | None:
    """The kind the values clearly are when it is not `kind` (for the demotion's reason)."""
    checks = [("dates", p.share("any_date") >= 0.9, {"date", "datetime"}),
              ("e-mail addresses", p.share("email") >= 0.9, {"email"}),
              ("web addresses", p.share("url") >= 0.9, {"url"}),
              ("long free text", p.share("free_text") >= 0.6 and p.mean_length > 60, {"long_text", "text"})]
    for what, holds, kinds in checks:
        if holds and kind not in kinds:
            return what
    return None


def value_fit(entity: str, column: str, f: SourceFile, header: str, ctx: Context) -> tuple[float, str]:
    """How well the header's values fit what the clinic column holds (0..1), with the evidence."""
    p = f.profiles[header]
    kind = expected_kind(entity, column)
    if not p.non_null:
        return 0.5, "values: column is empty"
    other = _clearly_other(p, kind)
    if other:
        return 0.05, f"values: {p.non_null} values are {other}, not {kind.replace('_', ' ')}"
    s = p.share
    if kind == "key":
        if p.share("any_date") > 0.5:
            return 0.0, "values: dates cannot be a key"
        key_like = max(s("id_like"), s("integer"))
        if p.unique and p.fill >= 0.99 and key_like >= 0.95:
            return 1.0, f"values: unique, filled in {p.fill:.0%} of {p.rows} rows, identifier-like"
        if key_like >= 0.9 and p.distinct >= 0.95 * p.non_null:
            return 0.6, f"values: identifier-like, {p.distinct} distinct in {p.non_null}"
        return 0.1, f"values: not a key ({p.distinct} distinct in {p.non_null} filled of {p.rows} rows)"
    if kind == "reference":
        if p.share("any_date") > 0.5:
            return 0.0, "values: dates cannot be an identifier"
        share, where = ctx.reference_share(f, header, REFERENCES[column])
        if share >= REFERENCE:
            return 1.0, f"values: {share:.0%} of {p.non_null} found in the key of {where}"
        key_like = max(s("id_like"), s("integer"))
        if where is not None:
            return 0.3 + 0.5 * share, f"values: only {share:.0%} of {p.non_null} found in the key of {where}"
        target_decided = REFERENCES[column] in ctx.entity_file
        if key_like >= 0.9:
            return (0.35 if target_decided else 0.6), ("values: identifier-like, but not found in "
                                                       + (f"{ctx.entity_file[REFERENCES[column]]}'s key"
                                                          if target_decided else "another file's key"))
        return 0.1, f"values: {key_like:.0%} identifier-like"
    if kind == "picklist":
        if p.distinct > 60:
            return 0.1, f"values: {p.distinct} distinct, not a pick-list"
        flag = boolean_values(p) and (entity, column) == ("providers", "status")
        _, _, hit, miss = value_map(entity, column, p.counts, header, flag)
        share = hit / (hit + miss)
        if flag:
            return 0.9, f"values: a yes/no flag ({p.distinct} values)"
        return (0.2 + 0.8 * share if p.categorical or share >= 0.8 else 0.1,
                f"values: {share:.0%} of rows are {column} values the clinic model knows")
    if kind in ("date", "datetime"):
        d = p.date
        if d.share < 0.5:
            return 0.05, f"values: {d.share:.0%} of {p.non_null} are dates"
        timed = d.with_time >= 0.5
        fit = d.share * (1.0 if timed == (kind == "datetime") else 0.75)
        what = "datetimes" if timed else "dates"
        return fit, f"values: {d.share:.0%} of {p.non_null} are {what}"
    if kind == "amount":
        a = p.amount
        if a.share < 0.8 or s("id_like") > 0.9 and not a.money and p.unique:
            return 0.1, f"values: {a.share:.0%} read as amounts"
        fit = a.share * (1.0 if a.money >= 0.5 else 0.7)
        return fit, f"values: {a.share:.0%} of {p.non_null} are amounts" + (", with cents or a currency"
                                                                              if a.money >= 0.5 else "")
    if kind == "boolean":
        if boolean_values(p):
            return 1.0, f"values: a yes/no flag ({p.distinct} values)"
        return 0.1 + 0.4 * s("boolean"), f"values: {s('boolean'):.0%} of {p.non_null} are yes/no words"
    if kind == "npi":
        ten = sum(n for v, n in p.counts.items() if len(v) == 10 and v.isdigit() and v[0] in "12") / p.non_null
        if s("npi") >= 0.9:
            return 1.0, f"values: {s('npi'):.0%} of {p.non_null} are NPIs with a valid check digit"
        return 0.75 * ten, (f"values: {ten:.0%} of {p.non_null} are 10-digit numbers like NPIs, "
                            f"{s('npi'):.0%} with a valid check digit")
    simple = {"email": ("email", "e-mail addresses"), "url": ("url", "web addresses"), "mime": ("mime", "MIME types"), "file_path": ("file_path", "file paths"),
              "file_name": ("file_name", "file names"), "integer": ("integer", "whole numbers"),
              "address": ("address", "street addresses")}
    if kind in simple:
        name, what = simple[kind]
        share = s(name)
        return share, f"values: {share:.0%} of {p.non_null} are {what}"
    if kind == "phone":
        share = s("phone")
        if s("phone_formatted") < 0.2 and p.unique and s("integer") > 0.9:
            share *= 0.6
        return share, f"values: {share:.0%} of {p.non_null} are phone numbers"
    if kind == "postal":
        share = s("postal_code")
        countries = ", ".join(c for c, _ in p.postal_countries.most_common(2))
        return share, f"values: {share:.0%} of {p.non_null} are postal codes ({countries or 'none'})"
    if kind == "state":
        share = s("state")
        if share < 0.3:
            return 0.1, f"values: {share:.0%} of {p.non_null} are states or provinces"
        return share, f"values: {share:.0%} of {p.non_null} are states or provinces"
    if kind == "sex":
        share = s("sex")
        return (share if p.distinct <= 8 else share * 0.5), f"values: {share:.0%} of {p.non_null} are sex codes"
    if kind == "cpt":
        share = max(s("cpt"), s("hcpcs")) + min(s("cpt"), s("hcpcs"))
        return min(1.0, share), f"values: {min(1.0, share):.0%} of {p.non_null} are CPT/HCPCS codes"
    if kind == "code":
        share = max(s("cpt") + s("hcpcs"), s("icd10"), s("id_like"))
        return min(1.0, share), f"values: {min(1.0, share):.0%} of {p.non_null} are codes"
    if kind == "identifier":
        share = max(s("id_like"), s("integer"))
        return share, f"values: {share:.0%} of {p.non_null} identifier-like"
    if kind == "person_name":
        share = max(s("first_last"), s("last_first"))
        return share, f"values: {share:.0%} of {p.non_null} are names of two or more words"
    if kind == "name_word":  # names carry digits or initials in some systems: weak evidence either way
        share = s("one_word")
        return 0.35 + 0.45 * share, f"values: {share:.0%} of {p.non_null} are single names"
    if kind == "long_text":
        fit = min(1.0, 0.3 + p.mean_length / 100)
        return fit if s("free_text") > 0.3 else 0.2, f"values: {s('free_text'):.0%} free text"
    if kind == "text":
        fit = 0.8 if s("id_like") < 0.5 and s("integer") < 0.5 else 0.2
        return fit, f"values: text, {p.distinct} distinct"
    # a short label (names of things, types, categories): text, not numbers or codes
    numeric = max(s("integer"), s("amount") if s("id_like") < 0.5 else 0.0)
    if numeric > 0.8 or s("id_like") > 0.9 and not p.categorical or s("phone") > 0.8 or s("state") > 0.9:
        return 0.15, f"values: {p.distinct} distinct codes or numbers, not labels"
    place = kind == "place"
    return (0.75 if place or p.categorical else 0.6), f"values: text, {p.distinct} distinct"


def combine(name: float, fit: float, kind: str) -> float:
    """Column score from header similarity and value fit: a good name needs values that do not
    contradict it; values alone carry a distinctive kind only, and never to full confidence."""
    if name >= 0.8:
        score = 0.55 * name + 0.45 * fit
        return min(score, 0.45) if fit < 0.3 else score
    if kind in DISTINCTIVE and fit >= 0.9:
        return 0.35 + 0.35 * name + 0.15 * fit
    return 0.4 * name + 0.2 * fit
