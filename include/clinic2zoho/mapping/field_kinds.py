"""What a Zoho field's values look like, and whether a source column's values fit it.

The Zoho-side proposal (propose.py) and the confirmation's check of a mapping file (kind_check.py)
ask the same question: given the detectors' profile of a column (detectors.py) and a target
field, do the values confirm the field, contradict it, or say nothing? A contradiction comes with
the evidence as a share of the column's values, never a value itself."""

from __future__ import annotations

from dataclasses import dataclass

from clinic2zoho.mapping.catalogue import TargetField
from clinic2zoho.mapping.detectors import ValueProfile, boolean_values
from clinic2zoho.mapping.header_words import normal

CONTRADICTS = 0.5  # below this share of fitting values a field's kind is contradicted
CONFIRMS = 0.9  # at or above it the values confirm the kind

# what each kind of field holds, in words for the reasons
WHAT = {"country": "countries or ISO country codes", "state": "states, provinces or territories",
        "postal": "postal codes", "email": "e-mail addresses", "phone": "phone numbers", "url": "web addresses",
        "date": "dates", "datetime": "dates or datetimes", "amount": "amounts", "integer": "whole numbers",
        "number": "numbers", "boolean": "yes/no flags", "sex": "sex or gender codes",
        "identifier": "identifiers", "address": "street addresses", "text": "text"}

_BY_TYPE = {"email": "email", "phone": "phone", "website": "url", "date": "date", "datetime": "datetime",
            "currency": "amount", "double": "number", "decimal": "number", "integer": "integer", "bigint": "integer",
            "boolean": "boolean"}
# address parts of Zoho's standard modules (Contacts' Mailing_/Other_, Accounts' Billing_/Shipping_)
_POSTAL_FIELDS = {"Mailing_Zip", "Other_Zip", "Billing_Code", "Shipping_Code", "Zip_Code"}


def field_kind(target: TargetField) -> str | None:
    """The kind of value `target` holds (None: any text, the values cannot contradict it)."""
    if target.external:
        return "identifier"
    if target.data_type in _BY_TYPE:
        return _BY_TYPE[target.data_type]
    if target.data_type in {"lookup", "ownerlookup", "picklist", "multiselectpicklist", "textarea"}:
        return None
    parts = normal(target.api_name).split()
    if "country" in parts:
        return "country"
    if "state" in parts or "province" in parts:
        return "state"
    if target.api_name in _POSTAL_FIELDS or "zip" in parts or "postal" in parts:
        return "postal"
    if "street" in parts:
        return "address"
    if "gender" in parts or "sex" in parts:
        return "sex"
    if parts and parts[-1] in {"id", "number"}:
        return "identifier"
    return None


@dataclass
class Evidence:
    kind: str  # the field's kind
    share: float  # of the column's values fitting it (0..1)
    reason: str

    @property
    def contradicts(self) -> bool:
        return self.share < CONTRADICTS

    @property
    def confirms(self) -> bool:
        return self.share >= CONFIRMS


def _clearly(p: ValueProfile) -> str | None:
    """What the values clearly are, when one kind holds nearly all of them."""
    if p.share("any_date") >= 0.9:
        return "datetime" if p.date.with_time >= 0.5 else "date"
    for kind in ("email", "url"):
        if p.share(kind) >= 0.9:
            return kind
    return None


def evidence(p: ValueProfile | None, target: TargetField) -> Evidence | None:
    """How the column's values bear on `target` (None: no values, or a field any text fits)."""
    if p is None or not p.non_null:
        return None
    kind = field_kind(target)
    n = p.non_null
    clearly = _clearly(p)
    if kind is None:
        # free text fits anything, but a column of dates or e-mails in a text field is a wrong field
        if clearly in {"date", "datetime", "email"} and target.data_type == "text":
            return Evidence("text", 0.0, f"values: {p.share('any_date' if 'date' in clearly else clearly):.0%} of {n}"
                            f" are {WHAT[clearly]}, not {target.api_name}'s {target.data_type}")
        return None
    if kind == "identifier":
        if p.share("any_date") >= 0.5:
            return Evidence(kind, 0.0, f"values: {p.share('any_date'):.0%} of {n} are dates; a date is never an identifier")
        if clearly:
            return Evidence(kind, 0.0, f"values: {n} values are {WHAT[clearly]}, not identifiers")
        share = max(p.share("id_like"), p.share("integer"), p.share("uuid"))
        # identifiers are also free codes (an insurer's member number): only dates contradict them
        return Evidence(kind, max(share, CONTRADICTS), f"values: {share:.0%} of {n} identifier-like")
    if kind in {"date", "datetime"}:
        share = p.date.share
        return Evidence(kind, share, f"values: {share:.0%} of {n} are dates"
                        + (f" ({p.date.with_time:.0%} with a time)" if share else ""))
    if clearly and clearly != kind and not (clearly == "email" and kind == "identifier"):
        return Evidence(kind, 0.0, f"values: {n} values are {WHAT[clearly]}, not {WHAT[kind]}")
    if kind == "country":
        share = p.share("country")
    elif kind == "state":
        share = p.share("state")
    elif kind == "postal":
        # US ZIP+4 is also written without its hyphen (Synthea's FHIR export: 662033065)
        zip9 = sum(c for v, c in p.counts.items() if len(v) == 9 and v.isdigit()) / n
        share = min(1.0, p.share("postal_code") + zip9)
    elif kind == "amount":
        share = p.amount.share
    elif kind == "number":
        share = max(p.amount.share, p.share("integer"))
    elif kind == "integer":
        share = p.share("integer")
    elif kind == "boolean":
        share = 1.0 if boolean_values(p) else p.share("boolean")
    elif kind == "address":
        share = p.share("address")
        # a street without a house number is still a street: only other shapes contradict it
        other = max(p.share("any_date"), p.share("email"), p.share("integer"), p.share("state"), p.share("country"))
        share = share if share >= CONFIRMS else (0.0 if other >= 0.8 else max(share, CONTRADICTS))
    else:  # email, phone, url, sex
        share = p.share(kind)
    return Evidence(kind, share, f"values: {share:.0%} of {n} are {WHAT[kind]}")


# kinds a column's values decide beyond doubt, and the field kinds that can hold them
_HOLDERS = {"date": {"date", "datetime"}, "datetime": {"datetime", "date"}, "email": {"email"}, "url": {"url"}}


def column_kind(p: ValueProfile) -> tuple[str, float] | None:
    """The kind a column's values clearly are, recorded in the mapping file with the column (dates,
    datetimes, e-mails, web addresses: shapes no other kind of value has)."""
    if p.share("any_date") >= CONFIRMS:
        return ("datetime" if p.date.with_time >= 0.5 else "date"), p.share("any_date")
    for kind in ("email", "url"):
        if p.share(kind) >= CONFIRMS:
            return kind, p.share(kind)
    return None


def wrong_kind(values_kind: str, share: float, target: TargetField) -> str | None:
    """Why a column whose values are `values_kind` cannot fill `target` (None: it can)."""
    kind = field_kind(target)
    if kind is None or values_kind not in _HOLDERS or kind in _HOLDERS[values_kind]:
        return None
    what = WHAT.get(values_kind, values_kind)
    if kind == "identifier" and values_kind in {"date", "datetime"}:
        return f"its values are {what} ({share:.0%}), and a date is never an identifier"
    if kind == "identifier":
        return None
    return f"its values are {what} ({share:.0%}), but {target.api_name} holds {WHAT[kind]}"
