"""What a column's values look like: e-mails, phones, postal codes, states and provinces,
countries, dates and datetimes (with the order of day and month), amounts (decimal point or
comma), booleans, sex vocabularies, identifiers, NPIs, CPT/HCPCS and ICD-10 codes, URLs, person
names, free text.

`profile_values(values)` measures one column once; the proposer asks the profile how well the
values fit what a clinic column holds. Shares are of non-empty values (weighted by how often each
distinct value occurs); nothing here keeps or reports a value itself."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from clinic2zoho.mapping.header_words import normal

MAX_DISTINCT = 4000  # distinct values measured per column for shapes (dates: every value)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
URL = re.compile(r"^(?i:https?://|www\.)\S+$")
PHONE = re.compile(r"^\+?[\d\s().\-/]{7,24}(?:\s*(?:x|ext\.?)\s*\d{1,6})?$")
TIME_ONLY = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp]\.?[Mm]\.?)?$")
DATE = re.compile(r"^(\d{1,4})([-/.])(\d{1,2})\2(\d{2,4})"
                  r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([AaPp]\.?[Mm]\.?)?"
                  r"\s*(?:Z|[+-]\d{2}:?\d{2})?)?$")
_CURRENCY = r"(?:[$€£¥]|US\$|A\$|C\$|EUR|USD|GBP|AUD|CAD|CHF)"
AMOUNT = re.compile(rf"^[-+(]?\s*{_CURRENCY}?\s*[-+]?(\d[\d.,' \u00a0\u202f]*)\s*{_CURRENCY}?\s*\)?-?$")
INTEGER = re.compile(r"^[-+]?\d+$")
ID_LIKE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-./:#]{0,63}$")
UUID = re.compile(r"^(?i:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
CPT = re.compile(r"^\d{4}[0-9FTU]$")
HCPCS = re.compile(r"^[A-V]\d{4}$")
ICD10 = re.compile(r"^[A-TV-Z]\d[0-9A-Z](?:\.?[0-9A-Z]{1,4})?$")
MIME = re.compile(r"^(?:application|audio|font|image|message|model|multipart|text|video)/[\w.+\-]+$", re.I)
FILE_NAME = re.compile(r"^[^/\\]+\.[A-Za-z0-9]{2,5}$")
FILE_PATH = re.compile(r"^[^\\/]*[\\/].*\.[A-Za-z0-9]{2,5}$")
NAME_WORD = r"[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ'’\-.]*"
FIRST_LAST = re.compile(rf"^{NAME_WORD}(?: {NAME_WORD}){{1,3}}$")
LAST_FIRST = re.compile(rf"^{NAME_WORD}(?: {NAME_WORD})*, {NAME_WORD}(?: {NAME_WORD})*$")
ONE_WORD = re.compile(rf"^{NAME_WORD}(?:[ \-]{NAME_WORD})?$")

POSTAL = {
    "US": re.compile(r"^\d{5}(?:-?\d{4})?$"),  # ZIP+4 with or without its hyphen (FHIR: 660441234)
    "CA": re.compile(r"^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d$", re.I),
    "GB": re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$", re.I),
    "AU": re.compile(r"^\d{4}$"),
    "DE": re.compile(r"^\d{5}$"),
    "ES": re.compile(r"^(?:0[1-9]|[1-4]\d|5[0-2])\d{3}$"),
}

BOOLEAN_WORDS = {"y", "n", "yes", "no", "true", "false", "t", "f", "1", "0", "j", "ja", "nein", "si", "s",
                 "x", "wahr", "falsch", "verdadero", "falso"}
TRUE_WORDS = {"y", "yes", "true", "t", "1", "j", "ja", "si", "s", "x", "wahr", "verdadero"}

# sex / gender vocabularies (normalised): clinic value F or M, or a value the clinic keeps as is
SEX_WORDS = {
    "F": {"f", "female", "woman", "w", "weiblich", "frau", "mujer", "femenino", "fem", "feminino"},
    "M": {"m", "male", "man", "maennlich", "mannlich", "mann", "hombre", "masculino", "masc", "h"},
    "other": {"u", "unknown", "o", "other", "x", "d", "divers", "unbekannt", "desconocido", "otro",
              "nonbinary", "non binary", "nb", "unk", "not stated", "declined"},
}
_SEX_ALL = set().union(*SEX_WORDS.values())

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts",
    "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico",
    "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming", "PR": "Puerto Rico", "GU": "Guam",
    "VI": "Virgin Islands", "AS": "American Samoa", "MP": "Northern Mariana Islands",
}
CA_PROVINCES = {
    "AB": "Alberta", "BC": "British Columbia", "MB": "Manitoba", "NB": "New Brunswick",
    "NL": "Newfoundland and Labrador", "NS": "Nova Scotia", "NT": "Northwest Territories", "NU": "Nunavut",
    "ON": "Ontario", "PE": "Prince Edward Island", "QC": "Quebec", "SK": "Saskatchewan", "YT": "Yukon",
}
AU_STATES = {
    "NSW": "New South Wales", "VIC": "Victoria", "QLD": "Queensland", "WA": "Western Australia",
    "SA": "South Australia", "TAS": "Tasmania", "ACT": "Australian Capital Territory",
    "NT": "Northern Territory",
}
UK_NATIONS = {"ENG": "England", "SCT": "Scotland", "WLS": "Wales", "NIR": "Northern Ireland"}
DE_STATES = {
    "BW": "Baden-Württemberg", "BY": "Bayern", "BE": "Berlin", "BB": "Brandenburg", "HB": "Bremen",
    "HH": "Hamburg", "HE": "Hessen", "MV": "Mecklenburg-Vorpommern", "NI": "Niedersachsen",
    "NW": "Nordrhein-Westfalen", "RP": "Rheinland-Pfalz", "SL": "Saarland", "SN": "Sachsen",
    "ST": "Sachsen-Anhalt", "SH": "Schleswig-Holstein", "TH": "Thüringen",
}
ES_REGIONS = {
    "AN": "Andalucía", "AR": "Aragón", "AS": "Asturias", "IB": "Illes Balears", "CN": "Canarias",
    "CB": "Cantabria", "CL": "Castilla y León", "CM": "Castilla-La Mancha", "CT": "Cataluña",
    "VC": "Comunitat Valenciana", "EX": "Extremadura", "GA": "Galicia", "MD": "Madrid", "MC": "Murcia",
    "NC": "Navarra", "PV": "País Vasco", "RI": "La Rioja", "CE": "Ceuta", "ML": "Melilla",
}
# country -> its states (code -> name); a state is read as the first country naming it (US first)
STATES_BY_COUNTRY = {"US": US_STATES, "CA": CA_PROVINCES, "AU": AU_STATES, "GB": UK_NATIONS,
                     "DE": DE_STATES, "ES": ES_REGIONS}
_STATE_EXTRA = {("DE", "bavaria"): "BY", ("DE", "nrw"): "NW", ("ES", "catalonia"): "CT", ("ES", "andalusia"): "AN",
                ("ES", "valencia"): "VC", ("ES", "comunidad de madrid"): "MD", ("ES", "basque country"): "PV"}

# country names in German and Spanish and ISO 3166 alpha-3 codes for the countries clinics are in
_COUNTRY_EXTRA = {
    "US": ("usa", "united states of america", "u s a", "us", "america", "vereinigte staaten", "estados unidos"),
    "CA": ("can", "kanada", "canada"), "AU": ("aus", "australien", "australia"),
    "GB": ("gbr", "uk", "united kingdom", "great britain", "england", "scotland", "wales", "grossbritannien",
           "vereinigtes koenigreich", "reino unido"),
    "DE": ("deu", "deutschland", "alemania", "germany", "brd"), "ES": ("esp", "spanien", "espana", "spain"),
    "AT": ("aut", "oesterreich", "austria"), "CH": ("che", "schweiz", "suiza", "switzerland"),
    "FR": ("fra", "frankreich", "francia"), "IT": ("ita", "italien", "italia"),
    "NL": ("nld", "niederlande", "paises bajos", "holland"), "IE": ("irl", "irland", "irlanda"),
    "NZ": ("nzl", "neuseeland", "nueva zelanda"), "MX": ("mex", "mexiko", "mexico"),
    "PT": ("prt", "portugal"), "BE": ("bel", "belgien", "belgica"), "PL": ("pol", "polen", "polonia"),
    "AR": ("arg", "argentinien"), "CO": ("col", "kolumbien"), "CL": ("chl", "chile"),
    "IN": ("ind", "indien"), "CN": ("chn", "china"), "JP": ("jpn", "japan", "japon"),
    "BR": ("bra", "brasilien", "brasil"), "ZA": ("zaf", "suedafrika", "sudafrica"),
    "TR": ("tur", "tuerkei", "turquia"), "SE": ("swe", "schweden", "suecia"), "DK": ("dnk", "daenemark"),
    "NO": ("nor", "norwegen", "noruega"), "FI": ("fin", "finnland", "finlandia"),
    "PH": ("phl", "philippinen", "filipinas"), "PE": ("per", "peru"), "VE": ("ven", "venezuela"),
}


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """normalised country name or code -> ISO 3166 alpha-2: the English names of the time zone
    database's iso3166.tab (where installed) and the names above."""
    names: dict[str, str] = {}
    for path in _iso3166_paths():
        try:
            for line in path.read_text(encoding="utf-8").splitlines():
                if line and not line.startswith("#") and "\t" in line:
                    code, name = line.split("\t", 1)
                    names[normal(name)] = code
                    names[code.lower()] = code
            break
        except OSError:
            continue
    for code, extra in _COUNTRY_EXTRA.items():
        names[code.lower()] = code
        for word in extra:
            names[normal(word)] = code
    return names


def _iso3166_paths() -> list[Path]:
    paths = []
    try:
        import importlib.resources

        paths.append(Path(str(importlib.resources.files("tzdata").joinpath("zoneinfo/iso3166.tab"))))
    except (ImportError, ModuleNotFoundError, TypeError):
        pass
    import zoneinfo

    paths += [Path(p) / "iso3166.tab" for p in zoneinfo.TZPATH]
    return [p for p in paths if p.is_file()]


@lru_cache(maxsize=1)
def state_names() -> dict[str, list[tuple[str, str]]]:
    """normalised state code or name -> [(country, state code)], US first."""
    out: dict[str, list[tuple[str, str]]] = {}
    for country, states in STATES_BY_COUNTRY.items():
        for code, name in states.items():
            for key in (code.lower(), normal(name)):
                out.setdefault(key, []).append((country, code))
    for (country, word), code in _STATE_EXTRA.items():
        out.setdefault(word, []).append((country, code))
    return out


def read_country(value: str) -> str | None:
    return country_names().get(normal(value))


def read_state(value: str, country: str | None = None) -> tuple[str, str] | None:
    """(country, state code) of a state, province or territory written as code or name."""
    hits = state_names().get(normal(value), [])
    if country:
        hits = [h for h in hits if h[0] == country] or []
    return hits[0] if hits else None


def npi_valid(value: str) -> bool:
    """A US National Provider Identifier: 10 digits, Luhn check over the prefix 80840."""
    if len(value) != 10 or not value.isdigit() or value[0] not in "12":
        return False
    digits = [int(c) for c in "80840" + value]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return total % 10 == 0


# ---------------------------------------------------------------------------------------------
# dates

@dataclass
class DateShape:
    """How a column writes its dates, read from every value."""
    share: float = 0.0  # of values, readable as a date (any order)
    with_time: float = 0.0  # of the dates, share carrying a time
    order: str | None = None  # YMD | DMY | MDY
    decisive: int = 0  # values whose parts decide the order
    contradicting: int = 0  # values deciding the other day/month order
    ambiguous: bool = False  # no value decides between DMY and MDY
    twelve_hour: bool = False
    separator: str | None = None
    dates: int = 0  # dates read


def date_parts(value: str) -> tuple[int, int, int, bool, bool, str] | None:
    """(a, b, c, four-digit-year-first, has_time, separator) of a date-like value, else None."""
    m = DATE.match(value)
    if not m:
        return None
    a, sep, b, c = m.group(1), m.group(2), m.group(3), m.group(4)
    if len(a) == 3 or len(c) == 3 or (len(a) == 4 and len(c) == 4):
        return None
    return int(a), int(b), int(c), len(a) == 4, m.group(5) is not None, sep


def date_shape(counts: Counter) -> DateShape:
    shape = DateShape()
    total = sum(counts.values())
    if not total:
        return shape
    ymd = dmy = mdy = either = timed = twelve = 0
    seps: Counter = Counter()
    for value, n in counts.items():
        parts = date_parts(value)
        if parts is None:
            continue
        a, b, c, year_first, has_time, sep = parts
        if year_first:
            if not (1 <= b <= 12 and 1 <= c <= 31):
                continue
            ymd += n
        elif not (1 <= a <= 31 and 1 <= b <= 31):
            continue
        elif a > 12 and b <= 12:
            dmy += n
        elif b > 12 and a <= 12:
            mdy += n
        elif a <= 12 and b <= 12:
            either += n
        else:
            continue
        seps[sep] += n
        if has_time:
            timed += n
            if re.search(r"[AaPp]\.?[Mm]\.?\s*$", value) or re.search(r"[AaPp]\.?[Mm]\.?\s*(Z|[+-]\d)", value):
                twelve += n
    dates = ymd + dmy + mdy + either
    shape.dates = dates
    shape.share = dates / total
    if not dates:
        return shape
    shape.with_time = timed / dates
    shape.twelve_hour = twelve > 0
    shape.separator = seps.most_common(1)[0][0]
    if ymd >= dmy + mdy + either:
        shape.order, shape.decisive, shape.contradicting = "YMD", ymd, dmy + mdy
    elif dmy or mdy:
        shape.order = "DMY" if dmy >= mdy else "MDY"
        shape.decisive, shape.contradicting = max(dmy, mdy), min(dmy, mdy)
    else:
        shape.ambiguous = True
        shape.order = "DMY" if shape.separator == "." else None  # dotted dates are day-first everywhere
    return shape


# ---------------------------------------------------------------------------------------------
# amounts

@dataclass
class AmountShape:
    share: float = 0.0  # of values, readable as an amount
    money: float = 0.0  # of values, with a currency symbol or exactly two decimals
    format: str = "decimal_point"
    comma_votes: int = 0
    point_votes: int = 0
    currency: bool = False


def amount_format(number: str) -> str | None:
    """'decimal_comma' / 'decimal_point' when the number's last separator decides it, else None."""
    number = number.strip()
    m = re.search(r"([.,])(\d+)$", number)
    if not m:
        return None
    sep, tail = m.group(1), m.group(2)
    others = number[: m.start()]
    if len(tail) != 3:
        return "decimal_comma" if sep == "," else "decimal_point"
    # three digits after the last separator: a thousands group unless the other separator precedes
    if sep == "," and "." in others:
        return "decimal_comma"
    if sep == "." and "," in others:
        return "decimal_point"
    return None


def amount_shape(counts: Counter) -> AmountShape:
    shape = AmountShape()
    total = sum(counts.values())
    hit = money = comma = point = cur = 0
    for value, n in counts.items():
        m = AMOUNT.match(value)
        if not m or not re.search(r"\d", value):
            continue
        number = m.group(1).strip()
        if not re.fullmatch(r"\d{1,3}(?:([.,' \u00a0\u202f])\d{3})*(?:[.,]\d+)?|\d+(?:[.,]\d+)?", number):
            continue
        hit += n
        has_currency = bool(re.search(_CURRENCY, value))
        cur += n if has_currency else 0
        fmt = amount_format(number)
        if fmt == "decimal_comma":
            comma += n
        elif fmt == "decimal_point":
            point += n
        if has_currency or re.search(r"[.,]\d{2}$", number):
            money += n
    if total:
        shape.share, shape.money = hit / total, money / total
    shape.comma_votes, shape.point_votes, shape.currency = comma, point, cur > 0
    shape.format = "decimal_comma" if comma > point else "decimal_point"
    return shape


# ---------------------------------------------------------------------------------------------
# a column's profile

@dataclass
class ValueProfile:
    rows: int = 0  # values read, empty ones included
    non_null: int = 0
    distinct: int = 0
    max_length: int = 0
    mean_length: float = 0.0
    shares: dict[str, float] = field(default_factory=dict)  # kind -> share of non-empty values
    date: DateShape = field(default_factory=DateShape)
    amount: AmountShape = field(default_factory=AmountShape)
    counts: Counter = field(default_factory=Counter, repr=False)  # value -> rows (kept in memory only)
    states: Counter = field(default_factory=Counter, repr=False)  # (country, state) -> rows
    countries: Counter = field(default_factory=Counter, repr=False)  # ISO code -> rows
    postal_countries: Counter = field(default_factory=Counter, repr=False)  # ISO code -> rows

    def share(self, kind: str) -> float:
        return self.shares.get(kind, 0.0)

    @property
    def unique(self) -> bool:
        return self.non_null > 0 and self.distinct == self.non_null

    @property
    def fill(self) -> float:
        return self.non_null / self.rows if self.rows else 0.0

    @property
    def categorical(self) -> bool:
        """Few distinct values, repeated: a pick-list."""
        return 0 < self.distinct <= 40 and self.non_null >= 2 * self.distinct and self.max_length <= 60

    def best_kind(self) -> tuple[str, float]:
        ranked = sorted(self.shares.items(), key=lambda kv: -kv[1])
        return ranked[0] if ranked else ("empty", 0.0)


def _shares(counts: Counter, tests: dict[str, object]) -> dict[str, float]:
    total = sum(counts.values())
    hits = dict.fromkeys(tests, 0)
    for value, n in counts.items():
        for kind, test in tests.items():
            if test(value):
                hits[kind] += n
    return {k: (v / total if total else 0.0) for k, v in hits.items()}


def _phone(value: str) -> bool:
    if not PHONE.match(value) or DATE.match(value):
        return False
    digits = sum(ch.isdigit() for ch in value)
    return 7 <= digits <= 15 and not (value.isdigit() and len(value) < 10)


def _formatted_phone(value: str) -> bool:
    return _phone(value) and not value.isdigit()


def _id_like(value: str) -> bool:
    return bool(ID_LIKE.match(value)) and (any(ch.isdigit() for ch in value) or bool(UUID.match(value))) \
        and not DATE.match(value)


def _free_text(value: str) -> bool:
    return len(value) >= 25 and value.count(" ") >= 3


def _sex(value: str) -> bool:
    return normal(value) in _SEX_ALL


def _boolean(value: str) -> bool:
    return normal(value) in BOOLEAN_WORDS


_TESTS = {
    "email": lambda v: bool(EMAIL.match(v)),
    "url": lambda v: bool(URL.match(v)),
    "phone": _phone,
    "phone_formatted": _formatted_phone,
    "time_only": lambda v: bool(TIME_ONLY.match(v)),
    "integer": lambda v: bool(INTEGER.match(v)),
    "id_like": _id_like,
    "uuid": lambda v: bool(UUID.match(v)),
    "npi": npi_valid,
    "cpt": lambda v: bool(CPT.match(v)),
    "hcpcs": lambda v: bool(HCPCS.match(v)),
    "icd10": lambda v: bool(ICD10.match(v)) and not CPT.match(v),
    "mime": lambda v: bool(MIME.match(v)),
    "file_name": lambda v: bool(FILE_NAME.match(v)) and not EMAIL.match(v) and not URL.match(v),
    "file_path": lambda v: bool(FILE_PATH.match(v)) and not URL.match(v),
    "first_last": lambda v: bool(FIRST_LAST.match(v)),
    "last_first": lambda v: bool(LAST_FIRST.match(v)),
    "one_word": lambda v: bool(ONE_WORD.match(v)),
    "free_text": _free_text,
    "sex": _sex,
    "boolean": _boolean,
    "address": lambda v: bool(re.match(r"^\d+[A-Za-z]?\s+\S", v) or re.search(r"\S\s+\d+[A-Za-z]?$", v)),
}


def profile_values(values: list[str | None] | tuple[str | None, ...]) -> ValueProfile:
    """Measure a column: `values` as read (None or blank for empty cells)."""
    counts: Counter = Counter()
    rows = 0
    for raw in values:
        rows += 1
        if raw is None:
            continue
        text = str(raw).strip()
        if text:
            counts[text] += 1
    p = ValueProfile(rows=rows, counts=counts)
    p.non_null = sum(counts.values())
    p.distinct = len(counts)
    if not counts:
        return p
    p.max_length = max(len(v) for v in counts)
    p.mean_length = sum(len(v) * n for v, n in counts.items()) / p.non_null
    measured = Counter(dict(counts.most_common(MAX_DISTINCT))) if len(counts) > MAX_DISTINCT else counts
    p.shares = _shares(measured, _TESTS)
    p.date = date_shape(counts)
    p.shares["date"] = p.date.share * (1 - p.date.with_time)
    p.shares["datetime"] = p.date.share * p.date.with_time
    p.shares["any_date"] = p.date.share
    p.amount = amount_shape(measured)
    p.shares["amount"] = p.amount.share
    p.shares["money"] = p.amount.money
    total = sum(measured.values())
    state_hits = country_hits = postal_hits = 0
    for value, n in measured.items():
        if (state := read_state(value)) is not None:
            p.states[state] += n
            state_hits += n
        country = read_country(value)
        if country is not None and (len(value) > 3 or value.isupper()):
            p.countries[country] += n
            country_hits += n
        postal = [c for c, rx in POSTAL.items() if rx.match(value)]
        if postal:
            postal_hits += n
            for c in postal:
                p.postal_countries[c] += n
    p.shares["state"] = state_hits / total
    p.shares["country"] = country_hits / total
    p.shares["postal_code"] = postal_hits / total
    return p


def boolean_values(p: ValueProfile) -> bool:
    """Two (or one) distinct values, all boolean words: a flag."""
    return 0 < p.distinct <= 2 and p.share("boolean") == 1.0 and not (p.share("sex") == 1.0 and
                                                                       not p.share("integer"))


def is_true(value: str) -> bool:
    return normal(value) in TRUE_WORDS
