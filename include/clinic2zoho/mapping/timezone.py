"""The clinic's time zone, proposed from where its patients live.

An export's datetimes are written in the clinic's zone (Synthea's and FHIR's are UTC instants that
Zoho shows in it), and nothing in a Synthea or FHIR export names that zone. The patients' addresses
do: each state, province or country points at one IANA zone (a state spanning several takes its
most populous one), and the zone most addresses point at is proposed, with the counts behind it.
A person confirms it (the DAG param, or the generic manifest's `timezone`, overrides it)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# dbt_project.yml's clinic_timezone: what a run gets when nothing here places a single address
DEFAULT_ZONE = "America/New_York"


@dataclass(frozen=True)
class TimezoneChoice:
    zone: str  # an IANA zone name
    reason: str  # why, in counts and zone names only (never an address)
    confidence: float  # share of the addresses read that point at `zone`; 0.0 for the default


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower().replace(".", "")).strip()


def _table(pairs: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """zone -> its states' names and abbreviations, as name -> zone (names normalised by _key)."""
    return {_key(name): zone for zone, names in pairs.items() for name in names}


# Each state's most populous zone (Florida, Kentucky, Tennessee, Indiana, Michigan, Idaho, Oregon,
# Texas, Kansas, Nebraska and the Dakotas span two).
_US = _table({
    "America/New_York": (
        "CT", "Connecticut", "DE", "Delaware", "DC", "District of Columbia", "FL", "Florida", "GA", "Georgia",
        "KY", "Kentucky", "ME", "Maine", "MD", "Maryland", "MA", "Massachusetts", "NH", "New Hampshire",
        "NJ", "New Jersey", "NY", "New York", "NC", "North Carolina", "OH", "Ohio", "PA", "Pennsylvania",
        "RI", "Rhode Island", "SC", "South Carolina", "VT", "Vermont", "VA", "Virginia", "WV", "West Virginia"),
    "America/Detroit": ("MI", "Michigan"),
    "America/Indiana/Indianapolis": ("IN", "Indiana"),
    "America/Chicago": (
        "AL", "Alabama", "AR", "Arkansas", "IL", "Illinois", "IA", "Iowa", "KS", "Kansas", "LA", "Louisiana",
        "MN", "Minnesota", "MS", "Mississippi", "MO", "Missouri", "NE", "Nebraska", "ND", "North Dakota",
        "OK", "Oklahoma", "SD", "South Dakota", "TN", "Tennessee", "TX", "Texas", "WI", "Wisconsin"),
    "America/Denver": ("CO", "Colorado", "MT", "Montana", "NM", "New Mexico", "UT", "Utah", "WY", "Wyoming"),
    "America/Boise": ("ID", "Idaho"),
    "America/Phoenix": ("AZ", "Arizona"),
    "America/Los_Angeles": ("CA", "California", "NV", "Nevada", "OR", "Oregon", "WA", "Washington"),
    "America/Anchorage": ("AK", "Alaska"),
    "Pacific/Honolulu": ("HI", "Hawaii"),
    "America/Puerto_Rico": ("PR", "Puerto Rico"),
    "Pacific/Guam": ("GU", "Guam"),
    "America/St_Thomas": ("VI", "US Virgin Islands", "Virgin Islands"),
})
_CA = _table({
    "America/Toronto": ("ON", "Ontario", "QC", "Quebec", "Québec"),
    "America/Halifax": ("NS", "Nova Scotia", "PE", "Prince Edward Island"),
    "America/Moncton": ("NB", "New Brunswick"),
    "America/St_Johns": ("NL", "Newfoundland and Labrador", "Newfoundland"),
    "America/Winnipeg": ("MB", "Manitoba"),
    "America/Regina": ("SK", "Saskatchewan"),
    "America/Edmonton": ("AB", "Alberta", "NT", "Northwest Territories"),
    "America/Vancouver": ("BC", "British Columbia"),
    "America/Whitehorse": ("YT", "Yukon"),
    "America/Iqaluit": ("NU", "Nunavut"),
})
_AU = _table({
    "Australia/Melbourne": ("VIC", "Victoria"),
    "Australia/Sydney": ("NSW", "New South Wales", "ACT", "Australian Capital Territory"),
    "Australia/Brisbane": ("QLD", "Queensland"),
    "Australia/Perth": ("WA", "Western Australia"),
    "Australia/Adelaide": ("SA", "South Australia"),
    "Australia/Hobart": ("TAS", "Tasmania"),
    "Australia/Darwin": ("NT", "Northern Territory"),
})
_GB = _table({"Europe/London": ("England", "Scotland", "Wales", "Northern Ireland")})
_ES = _table({"Atlantic/Canary": ("Canarias", "Canary Islands", "Islas Canarias", "Las Palmas",
                                  "Santa Cruz de Tenerife")})
STATE_ZONES: dict[str, dict[str, str]] = {"US": _US, "CA": _CA, "AU": _AU, "GB": _GB, "ES": _ES}
# The zone of a country whatever the state (the exceptions above aside)
COUNTRY_ZONES = {"NZ": "Pacific/Auckland", "GB": "Europe/London", "IE": "Europe/Dublin", "DE": "Europe/Berlin",
                 "FR": "Europe/Paris", "ES": "Europe/Madrid"}
_COUNTRIES = {_key(name): code for code, names in {
    "US": ("US", "USA", "United States", "United States of America", "America"),
    "CA": ("CA", "CAN", "Canada"),
    "AU": ("AU", "AUS", "Australia"),
    "NZ": ("NZ", "NZL", "New Zealand", "Aotearoa"),
    "GB": ("GB", "GBR", "UK", "United Kingdom", "Great Britain", "England", "Scotland", "Wales", "Northern Ireland"),
    "IE": ("IE", "IRL", "Ireland", "Éire", "Eire"),
    "DE": ("DE", "DEU", "Germany", "Deutschland"),
    "FR": ("FR", "FRA", "France"),
    "ES": ("ES", "ESP", "Spain", "España", "Espana"),
}.items() for name in names}

# Postal codes that place an address when its state does not: Australian postcode ranges by state,
# Canadian postal codes by their first letter, and the shapes of US ZIP and UK postcodes.
_AU_POSTCODES = ((800, 999, "NT"), (2600, 2618, "ACT"), (2900, 2920, "ACT"), (2000, 2999, "NSW"),
                 (3000, 3999, "VIC"), (4000, 4999, "QLD"), (5000, 5999, "SA"), (6000, 6999, "WA"),
                 (7000, 7999, "TAS"))
_CA_LETTERS = {"A": "NL", "B": "NS", "C": "PE", "E": "NB", "G": "QC", "H": "QC", "J": "QC", "K": "ON", "L": "ON",
               "M": "ON", "N": "ON", "P": "ON", "R": "MB", "S": "SK", "T": "AB", "V": "BC", "X": "NU", "Y": "YT"}
_US_ZIP = re.compile(r"^\d{5}(-\d{4})?$")
_CA_POSTAL = re.compile(r"^[A-Z]\d[A-Z] ?\d[A-Z]\d$")
_UK_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$")


def _country(text: str | None) -> str | None:
    return _COUNTRIES.get(_key(text)) if text and text.strip() else None


def _countries_of_state(state: str) -> list[str]:
    key = _key(state)
    return [code for code, table in STATE_ZONES.items() if key in table]


def _state_from_postal(postal: str | None, country: str | None) -> str | None:
    code = (postal or "").strip().upper()
    if country == "AU" and code.isdigit() and len(code) == 4:
        number = int(code)
        return next((state for low, high, state in _AU_POSTCODES if low <= number <= high), None)
    if country == "CA" and _CA_POSTAL.match(code):
        return _CA_LETTERS.get(code[0])
    return None


def _country_from_postal(postal: str | None) -> str | None:
    code = (postal or "").strip().upper()
    if _US_ZIP.match(code):
        return "US"
    if _CA_POSTAL.match(code):
        return "CA"
    if _UK_POSTCODE.match(code):
        return "GB"
    return None  # four digits: Australia, New Zealand and much of Europe alike


def _zone(state: str | None, country: str, postal: str | None) -> str | None:
    table = STATE_ZONES.get(country, {})
    if state and state.strip() and (zone := table.get(_key(state))):
        return zone
    if (from_postal := _state_from_postal(postal, country)) and (zone := table.get(_key(from_postal))):
        return zone
    return COUNTRY_ZONES.get(country)


def _rows(states: Sequence, countries: Sequence, postal_codes: Sequence) -> tuple[list[tuple], str | None]:
    """Addresses as (state, country, postal code) rows when the lists are parallel (one value per
    patient); otherwise the states alone, with the most common country as a hint for all."""
    given = [values for values in (states, countries, postal_codes) if values]
    if given and all(len(values) == len(given[0]) for values in given):
        n = len(given[0])
        pick = lambda values, i: values[i] if values else None  # noqa: E731
        return [(pick(states, i), pick(countries, i), pick(postal_codes, i)) for i in range(n)], None
    named = Counter(c for c in map(_country, countries) if c) or Counter(
        c for c in map(_country_from_postal, postal_codes) if c)
    return [(s, None, None) for s in states], (named.most_common(1)[0][0] if named else None)


def propose_timezone(states: Iterable[str | None], countries: Iterable[str | None],
                     postal_codes: Iterable[str | None] = ()) -> TimezoneChoice:
    """The zone most of the addresses point at. `states`, `countries` and `postal_codes` are the
    patients' values (parallel lists, one per patient; any may be empty); state names and
    abbreviations of the US, Canada and Australia, and the countries of COUNTRY_ZONES, are known.
    An ambiguous state (WA: Washington or Western Australia; NT) with no country takes the country
    most other addresses are in."""
    rows, hint = _rows(list(states), list(countries), list(postal_codes))
    read = sum(1 for row in rows if any(v is not None and str(v).strip() for v in row))
    zones: Counter[str] = Counter()
    ambiguous: list[tuple] = []
    resolved_countries: Counter[str] = Counter()
    for state, country_text, postal in rows:
        country = _country(country_text) or hint or _country_from_postal(postal)
        if country is None and state and state.strip():
            candidates = _countries_of_state(state)
            if len(candidates) > 1:
                ambiguous.append((state, postal))
                continue
            country = candidates[0] if candidates else None
        if country and (zone := _zone(state, country, postal)):
            zones[zone] += 1
            resolved_countries[country] += 1
    if ambiguous:
        main = resolved_countries.most_common(1)[0][0] if resolved_countries else None
        for state, postal in ambiguous:
            # with no other address to go by, the North American reading (STATE_ZONES' order) stands
            country = main if main in _countries_of_state(state) else _countries_of_state(state)[0]
            if zone := _zone(state, country, postal):
                zones[zone] += 1
    if not zones:
        return TimezoneChoice(DEFAULT_ZONE, f"no patient address of {read} read names a state, province, "
                              f"country or postal code that places it; the project default {DEFAULT_ZONE} is "
                              "used: confirm the clinic's time zone", 0.0)
    ranked = sorted(zones.items(), key=lambda item: (-item[1], item[0]))
    zone, count = ranked[0]
    placed = sum(zones.values())
    shares = ", ".join(f"{z} {n} ({n / placed:.0%})" for z, n in ranked[:3])
    more = f", {len(ranked) - 3} other zone(s)" if len(ranked) > 3 else ""
    unplaced = f"; {read - placed} address(es) could not be placed" if read > placed else ""
    tied = len(ranked) > 1 and ranked[1][1] == count
    tie = "; a tie, decided by zone name: confirm the clinic's zone" if tied else ""
    return TimezoneChoice(zone, f"{placed} of {read} patient addresses placed by state, country or postal code: "
                          f"{shares}{more}{unplaced}{tie}", round(count / read, 3) if read else 0.0)


# ----------------------------------------------------------------------------- from the warehouse
# Where a landed patients table holds the address: the first of these columns it has.
_COLUMNS = {"state": ("state", "province", "region"), "country": ("country", "country_code"),
            "postal": ("postal_code", "zip", "zip_code", "postcode")}
# FHIR keeps the resource: its first address
_FHIR = {"state": "resource->>'$.address[0].state'", "country": "resource->>'$.address[0].country'",
         "postal": "resource->>'$.address[0].postalCode'"}
_TABLES = {"synthea": ("synthea__patients", "id"), "fhir": ("fhir__patient", "id"),
           "generic": ("generic__patients", "patient_id")}


def timezone_from_warehouse(con: Any, fmt: str) -> TimezoneChoice:
    """Propose from the landed patients of `fmt` (raw.<fmt>__patients; each record once, its latest
    version). Reads only the address columns; one the export does not have is left out."""
    if not re.fullmatch(r"[a-z0-9_]+", fmt or ""):
        raise ValueError(f"not a format name: {fmt!r}")
    table, key = _TABLES.get(fmt, (f"{fmt}__patients", "patient_id"))
    columns = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                         "WHERE table_schema = 'raw' AND table_name = ?", [table]).fetchall()}
    if not columns:
        return propose_timezone([], [])
    if fmt == "fhir" and "resource" in columns:
        select = dict(_FHIR)
    else:
        select = {part: next((f'"{c}"' for c in names if c in columns), "NULL") for part, names in _COLUMNS.items()}
    latest = (f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY _loaded_at DESC, _source_row DESC) = 1"
              if {key, "_loaded_at", "_source_row"} <= columns else "")
    rows = con.execute(f"SELECT {select['state']}, {select['country']}, {select['postal']} "
                       f"FROM raw.{table} {latest}").fetchall()
    return propose_timezone([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])


def proposed_timezone(warehouse: str | Path, fmt: str) -> TimezoneChoice:
    """timezone_from_warehouse on the warehouse file, opened read-only for the time it takes."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return timezone_from_warehouse(con, fmt)
