"""FHIR R4 Bulk Data exports: one NDJSON file per resource type, one raw table per type.

DuckDB reads each file as single-column lines (so a malformed line is a reject with its line
number, not a failed file), validates the JSON, and flattens the fields the Zoho mapping needs with
JSON paths; `resource` keeps the whole resource text."""

from __future__ import annotations

import codecs
from pathlib import Path

import duckdb

from . import json_batches
from .errors import LandingError
from .sniff import _not_text, _utf16_without_bom
from .names import sql_string
from .paths import inside_export
from .result import FileLoad
from .row_numbers import shift_source_rows, thresholds
from .stability import FileWatch
from .store import Batch, land_relation, record_file_load, record_rejects

MAX_LINE_BYTES = 256 << 20  # a DocumentReference may carry a large base64 attachment
_REJECTS = "_landing_ndjson_rejects"
_REJECT_SCANS = "_landing_ndjson_reject_scans"
_NPI = "http://hl7.org/fhir/sid/us-npi"
RECORD_KEY = "id"  # a resource's logical id identifies it across exports


def is_log_file(path: Path) -> bool:
    """Bulk Data export logs (log.ndjson) describe the export, they hold no resources."""
    return path.name.lower().startswith("log.") or path.name.lower() == "log.ndjson"


def resource_type_of(path: Path) -> str:
    return path.name.split(".")[0]


def plan(source: Path, watch: FileWatch | None = None) -> list[tuple[str, Path]]:
    """Every resource file, checked inside the export and readable, before anything is written."""
    watch = watch or FileWatch()
    # not only regular files: a folder (or a dangling link) named like one is refused below, not skipped
    files = sorted(p for p in source.iterdir() if p.name.lower().endswith(".ndjson") and not is_log_file(p))
    if not files:
        raise LandingError("no FHIR .ndjson resource files found", file=source)
    planned = []
    for path in files:
        watch.note(inside_export(source, path.name))
        try:
            with path.open("rb") as handle:
                head = handle.read(4096)
        except OSError as exc:
            raise LandingError(f"cannot read file: {exc.strerror or exc}", file=path) from exc
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(head):
            raise LandingError("the file is UTF-16; NDJSON is UTF-8 text: save it as UTF-8", file=path)
        if what := _not_text(head):
            raise LandingError(f"not an NDJSON text file: the file is {what}", file=path)
        planned.append((resource_type_of(path).lower(), path))
    return planned


# --- flattening: small SQL builders over the parsed resource `r` --------------------------------

def _s(path: str) -> str:
    return f"(r->>{sql_string('$.' + path)})"


def _ref(path: str) -> str:
    """A Reference reduced to the id: `urn:uuid:X`, `Patient/X`, `Type?identifier=sys|X` -> X;
    a logical reference by identifier gives the identifier's value."""
    return f"coalesce(_fhir_ref({_s(path + '.reference')}), {_s(path + '.identifier.value')})"


def _npi(path: str) -> str:
    ref = _s(path + ".reference")
    return (f"CASE WHEN {ref} LIKE '%us-npi|%' THEN _fhir_ref({ref}) "
            f"WHEN {_s(path + '.identifier.system')} = '{_NPI}' THEN {_s(path + '.identifier.value')} END")


def _join(path: str, sep: str = " ") -> str:
    return f"array_to_string(json_extract_string(r, {sql_string('$.' + path + '[*]')}), {sql_string(sep)})"


def _telecom(system: str, base: str = "telecom") -> str:
    return (f"(list_filter(json_extract(r, {sql_string('$.' + base + '[*]')}), "
            f"lambda t: t->>'system' = {sql_string(system)})[1]->>'value')")


def _identifier(system: str) -> str:
    return (f"(list_filter(json_extract(r, '$.identifier[*]'), "
            f"lambda i: i->>'system' = {sql_string(system)})[1]->>'value')")


def _concept(path: str) -> str:
    return f"coalesce({_s(path + '.text')}, {_s(path + '.coding[0].display')})"


def _address(base: str = "address[0]") -> dict[str, str]:
    return {"address_line": _join(f"{base}.line", ", "), "city": _s(f"{base}.city"),
            "state": _s(f"{base}.state"), "postal_code": _s(f"{base}.postalCode"),
            "country": _s(f"{base}.country")}


def _coding(path: str) -> dict[str, str]:
    return {"code_system": _s(f"{path}.coding[0].system"), "code": _s(f"{path}.coding[0].code"),
            "display": _concept(path)}


_ATTACHMENT = "content[0].attachment"
_NOTE_BYTES = f"try(from_base64({_s(_ATTACHMENT + '.data')}))"

FLATTEN: dict[str, dict[str, str]] = {
    "patient": {
        "family": _s("name[0].family"), "given": _join("name[0].given"), "prefix": _join("name[0].prefix"),
        "birth_date": _s("birthDate"), "gender": _s("gender"),
        "deceased": f"coalesce({_s('deceasedDateTime')}, {_s('deceasedBoolean')})",
        "email": _telecom("email"), "phone": _telecom("phone"), **_address(),
        "marital_status": f"coalesce({_s('maritalStatus.text')}, {_s('maritalStatus.coding[0].code')})",
        "language": f"coalesce({_s('communication[0].language.text')}, "
                    f"{_s('communication[0].language.coding[0].code')})",
    },
    "practitioner": {
        "family": _s("name[0].family"), "given": _join("name[0].given"), "prefix": _join("name[0].prefix"),
        "email": _telecom("email"), "phone": _telecom("phone"), "npi": _identifier(_NPI),
        "gender": _s("gender"), "active": _s("active"),
    },
    "practitionerrole": {
        "practitioner_id": _ref("practitioner"), "practitioner_npi": _npi("practitioner"),
        "organization_id": _ref("organization"), "location_id": _ref("location[0]"),
        "specialty": _concept("specialty[0]"), "specialty_code": _s("specialty[0].coding[0].code"),
        "email": _telecom("email"), "phone": _telecom("phone"), "active": _s("active"),
    },
    "organization": {
        "name": _s("name"), "type": _concept("type[0]"), "phone": _telecom("phone"),
        "email": _telecom("email"), **_address(), "active": _s("active"),
    },
    "location": {
        "name": _s("name"), "status": _s("status"), "phone": _telecom("phone"), **_address("address"),
        "organization_id": _ref("managingOrganization"),
    },
    "encounter": {
        "patient_id": _ref("subject"), "practitioner_id": _ref("participant[0].individual"),
        "practitioner_npi": _npi("participant[0].individual"), "organization_id": _ref("serviceProvider"),
        "location_id": _ref("location[0].location"), "status": _s("status"), "class": _s("class.code"),
        "type": _concept("type[0]"), "type_code": _s("type[0].coding[0].code"),
        "start": _s("period.start"), "end": _s("period.end"),
        "reason": _concept("reasonCode[0]"), "reason_code": _s("reasonCode[0].coding[0].code"),
    },
    "documentreference": {
        "patient_id": _ref("subject"), "encounter_id": _ref("context.encounter[0]"),
        "author_id": _ref("author[0]"), "author_npi": _npi("author[0]"), "date": _s("date"),
        "status": _s("status"), "type": _concept("type"), "type_code": _s("type.coding[0].code"),
        "category": _concept("category[0]"), "content_type": _s(_ATTACHMENT + ".contentType"),
        "note_text": f"CASE WHEN coalesce({_s(_ATTACHMENT + '.contentType')}, 'text/plain') LIKE 'text/%' "
                     f"THEN try(decode({_NOTE_BYTES})) END",
        "data_size": f"coalesce({_s(_ATTACHMENT + '.size')}, CAST(octet_length({_NOTE_BYTES}) AS VARCHAR))",
        "attachment_url": _s(_ATTACHMENT + ".url"),
    },
    "procedure": {
        "patient_id": _ref("subject"), "encounter_id": _ref("encounter"), **_coding("code"),
        "performed_start": f"coalesce({_s('performedPeriod.start')}, {_s('performedDateTime')})",
        "performed_end": _s("performedPeriod.end"), "status": _s("status"), "location_id": _ref("location"),
    },
    "condition": {
        "patient_id": _ref("subject"), "encounter_id": _ref("encounter"), **_coding("code"),
        "clinical_status": _s("clinicalStatus.coding[0].code"),
        "verification_status": _s("verificationStatus.coding[0].code"), "category": _concept("category[0]"),
        "onset": f"coalesce({_s('onsetDateTime')}, {_s('onsetPeriod.start')})",
        "abatement": f"coalesce({_s('abatementDateTime')}, {_s('abatementPeriod.start')})",
        "recorded_date": _s("recordedDate"),
    },
    "coverage": {
        "patient_id": _ref("beneficiary"), "subscriber_id": _s("subscriberId"),
        "payor_id": _ref("payor[0]"), "payor_name": _s("payor[0].display"), "status": _s("status"),
        "type": _concept("type"), "relationship": _s("relationship.coding[0].code"),
        "period_start": _s("period.start"), "period_end": _s("period.end"), "order": _s("order"),
    },
    "claim": {
        "patient_id": _ref("patient"), "provider_id": _ref("provider"), "insurer_id": _ref("insurer"),
        "insurer_name": _s("insurer.display"), "coverage_id": _ref("insurance[0].coverage"),
        "encounter_id": _ref("item[0].encounter[0]"), "status": _s("status"), "type": _concept("type"),
        "use": _s("use"), "created": _s("created"), "billable_start": _s("billablePeriod.start"),
        "billable_end": _s("billablePeriod.end"), "total": _s("total.value"),
        "currency": _s("total.currency"),
    },
}


# What each line is, column by column (json_batches.add_columns): `ok` first, as the JSON functions
# after it fail on text that is not JSON.
LINE_FACTS: dict[str, tuple[str, str]] = {
    "ok": ("coalesce(json_valid(line), false)", "BOOLEAN"),
    "jtype": ("CASE WHEN ok THEN json_type(line) END", "VARCHAR"),
    "rtype": ("CASE WHEN jtype = 'OBJECT' THEN line->>'$.resourceType' END", "VARCHAR"),
    "rid": ("CASE WHEN jtype = 'OBJECT' AND json_type(line, '$.id') IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE') "
            "THEN line->>'$.id' END", "VARCHAR"),
}


def columns_for(entity: str) -> dict[str, str]:
    return {"id": _s("id"), **FLATTEN.get(entity, {}), "resource": "CAST(r AS VARCHAR)"}


def land_ndjson(con: duckdb.DuckDBPyConnection, path: Path, entity: str, table: str, batch: Batch) -> FileLoad:
    source_file = str(path)
    resource_type = resource_type_of(path)
    con.execute("CREATE OR REPLACE TEMP MACRO _fhir_ref(x) AS "
                "regexp_extract(regexp_replace(x, '/_history/.*$', ''), '([^/|:]+)$', 1)")
    con.execute(f"DROP TABLE IF EXISTS {_REJECTS}; DROP TABLE IF EXISTS {_REJECT_SCANS}")
    # One VARCHAR column per line: the unit separator never occurs unescaped in valid JSON.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _landing_lines AS
        SELECT line, row_number() OVER () AS ln
        FROM read_csv({sql_string(source_file)}, header = false, columns = {{'line': 'VARCHAR'}},
                      auto_detect = false, delim = '\x1f', quote = '', escape = '', strict_mode = false,
                      max_line_size = {MAX_LINE_BYTES}, store_rejects = true,
                      rejects_table = '{_REJECTS}', rejects_scan = '{_REJECT_SCANS}')""")
    reader_rejects = _reader_rejects(con)
    # Blank lines are not records (a trailing newline is normal); everything else is read.
    con.execute("DELETE FROM _landing_lines WHERE line IS NULL OR trim(line) = ''")
    # JSON is parsed a bounded number of bytes at a time (json_batches.py), so long lines land
    too_long = json_batches.reject_long_lines(con, "_landing_lines", source_file, batch)
    json_batches.add_columns(con, "_landing_lines", LINE_FACTS, json_batches.spans(con, "_landing_lines"))
    _refuse_single_document(con, path)
    # the type must match the file's name (case aside: patient.ndjson holds Patient resources), and a
    # resource needs its id: staging keeps one row per id, so resources without one would collapse
    con.execute("""CREATE OR REPLACE TEMP TABLE _landing_ndjson_bad AS
        SELECT ln AS source_row,
               CASE WHEN NOT ok OR jtype <> 'OBJECT' THEN NULL WHEN NOT type_ok THEN 'resourceType'
                    ELSE 'id' END AS field,
               CASE WHEN NOT ok THEN 'malformed JSON: the line does not parse as a JSON value'
                    WHEN jtype <> 'OBJECT' THEN 'not a JSON object: a line of NDJSON holds one resource'
                    WHEN NOT type_ok THEN 'resourceType ' || coalesce(rtype, '(missing)')
                         || ' does not match the file''s type ' || ?
                    ELSE 'the resource has no id: it cannot be identified' END AS reason,
               line AS raw_record
        FROM (SELECT *, coalesce(lower(rtype) = lower(?), false) AS type_ok,
                     coalesce(trim(rid) <> '', false) AS id_ok FROM _landing_lines)
        WHERE NOT (ok AND jtype = 'OBJECT' AND type_ok AND id_ok)""", [resource_type, resource_type])
    is_resource = (f"ok AND jtype = 'OBJECT' AND coalesce(lower(rtype) = lower({sql_string(resource_type)}), false) "
                   "AND coalesce(trim(rid) <> '', false)")
    columns = columns_for(entity)
    resources = f"SELECT CAST(line AS JSON) AS r, ln FROM _landing_lines WHERE {is_resource}"
    select_sql = json_batches.select(con, resources, columns, json_batches.spans(con, "_landing_lines", is_resource),
                                     "_landing_flat")
    good, landed, unchanged = land_relation(con, table, list(columns), select_sql, source_file, batch,
                                              key=RECORD_KEY)
    rejected = reader_rejects + too_long
    if con.execute("SELECT count(*) FROM _landing_ndjson_bad").fetchone()[0]:
        rejected += record_rejects(con, "SELECT * FROM _landing_ndjson_bad", source_file, batch)
    if reader_rejects:
        record_rejects(con, f"SELECT line AS source_row, NULL AS field, lower(error_type) || ': ' || error_message "
                            f"AS reason, csv_line AS raw_record FROM {_REJECTS}", source_file, batch)
    con.execute("DROP TABLE _landing_lines; DROP TABLE _landing_ndjson_bad; DROP TABLE IF EXISTS _landing_flat")
    load = FileLoad(entity, source_file, table, good + rejected, landed, unchanged, rejected)
    record_file_load(con, batch, entity, source_file, load.read, landed, unchanged, rejected)
    return load


def _refuse_single_document(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """A file without a single resource line whose first line opens a JSON array, or opens an object
    it does not close, is one JSON document (a Bundle-like array, pretty-printed JSON), not NDJSON:
    refused as a whole instead of rejected line by line."""
    first = con.execute("""SELECT ok, jtype, ltrim(line) FROM _landing_lines
        WHERE NOT EXISTS (SELECT 1 FROM _landing_lines WHERE ok AND jtype = 'OBJECT')
        ORDER BY ln LIMIT 1""").fetchone()
    if first is None:
        return
    ok, jtype, line = first
    if jtype == "ARRAY" or (not ok and line[:1] in {"[", "{"}):
        raise LandingError("the file is one JSON document (an array, or an object over several lines), not "
                           "NDJSON: write one resource per line", file=path, row=1)


def _reader_rejects(con: duckdb.DuckDBPyConnection) -> int:
    """Lines DuckDB could not read at all (invalid UTF-8, longer than MAX_LINE_BYTES). Their line
    numbers are known; the line numbers of the rows after them are shifted back into place."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary",
                         [_REJECTS]).fetchone()[0]
    if not exists:
        return 0
    rejected_lines = [line for (line,) in con.execute(f"SELECT DISTINCT line FROM {_REJECTS}").fetchall()]
    shift_source_rows(con, "_landing_lines", "true", thresholds(rejected_lines), column="ln")
    return len(rejected_lines)
