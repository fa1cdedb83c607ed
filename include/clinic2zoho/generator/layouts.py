"""Vendor-style layouts of a generated generic export, with their ground truth (issue 13's corpus).

`write_layout(generic_export, layout, out)` reads a generic export folder (docs/generic_export.md:
manifest.json, one CSV per entity, workflows.json, files/) and writes the same clinic's data as a
practice-management vendor would export it, to `out/export/`, and the answer key to
`out/truth.json`, outside the export folder so a proposer reading the export never sees it.

`LAYOUTS` names the layouts (stable names; a benchmark refers to them); `random:<seed>` is a
layout drawn from pools by a seed (`random_layout`), one nobody tuned the proposer against. Each combines several
variations real exports show: file names, header style (Title Case, camelCase, abbreviations,
German, UPPER_SNAKE), no manifest, date order and clock, delimiter, encoding, decimal commas and
currency symbols, names in one column, flags for a two-valued column, vendor codes for pick-lists,
extra vendor columns, a dropped column, another column order.

Every transformation can be undone from the truth alone: a reader applying `parse` then `values`
to the vendor's text gets the generic value back (dates as `YYYY-MM-DD`, datetimes as
`YYYY-MM-DD HH:MM:SS`), except where the truth says `lossy`. A value the generic export holds
that does not parse (a planted defect such as `1985-02-30`) is written unchanged and listed under
`unparsed` (no parse rule nor value map applies to it), since a day-first reader may well read
`13/07/1982` as a date.

The reader's rules (docs/source_map.md): `date`/`datetime` with `format` DMY | MDY | YMD (the
order of day, month and year; any of `/ - .`, `T` or a space before the time, 12-hour clocks
with AM/PM, seconds optional); `amount` with decimal_point (drop currency symbols and `,`) or
decimal_comma (drop symbols and `.`, `,` is the point); `name` with last_first (split at the first
", ") or first_last (split at the first space; see `split_name`); `boolean` carries no format: the
column's `values` say which vendor text means `true` and `false` (or, for providers' status
written as a flag, `active` and `inactive`). `values` are keyed by the vendor's text as written
(no column has both a value map and a date, amount or name rule); a value not in the map is the
clinic's value as is. `lossy_rows` lists the records a lossy column cannot carry; its other
records round-trip exactly.

Layouts with a manifest (`Layout.manifest`) write the generic manifest naming the vendor's files
and key headers; the others write none, so what only the manifest says (time zone, document URL
base, custom objects, relations) is in the truth's `metadata` for a bench to compare with.

truth.json:
```
{"layout", "description", "generic_export", "manifest": bool, "metadata": {timezone, clinic_name,
  document_url_base, exported_at, custom_objects, relations: from the generic manifest},
 "documents_folder": "files", "workflows": "workflows.json",
 "files": [{"file", "entity", "key", "delimiter", "encoding", "lineterminator", "rows",
            "columns": {header: clinic column | [first_name, last_name] | null (vendor extra)},
            "parse": {header: {"parse": date|datetime|amount|boolean|name, "format": ...}},
            "values": {header: {vendor value: clinic value}},
            "dropped": [clinic columns the layout does not carry],
            "lossy": {header: why}, "lossy_rows": {header: [record numbers]},
            "unparsed": {header: [record numbers]}, "malformed": [record numbers],
            "cells", "changed_cells"}]}
```
Record numbers count data records from 1 (the header is not one), as `_source_row` does.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from clinic2zoho.generator.layout_file import FileWriter, column_kind, split_name
from clinic2zoho.generator.layout_spec import ExtraColumn, Layout
from clinic2zoho.generator.vendor_vocabulary import (
    ABBR_FILES,
    ABBR_HEADERS,
    CAMEL_FILES,
    CAMEL_HEADERS,
    GERMAN_FILES,
    GERMAN_HEADERS,
    RANDOM_FILES,
    RANDOM_STYLES,
    RANDOM_SYNONYMS,
    SNAKE_HEADERS,
    TITLE_FILES,
    TITLE_HEADERS,
    abbreviated_style,
    camel_style,
    german_style,
    snake_file_name,
    title_style,
    upper_style,
)

__all__ = ["LAYOUTS", "Layout", "column_kind", "random_layout", "split_name", "write_layout"]


# The layouts (what a layout can say: layout_spec.Layout).

_LAYOUT_LIST = [
    Layout(
        name="title_case",
        description="Title Case headers with spaces, other file names, no manifest, US dates "
                    "MM/DD/YYYY and 12-hour clock, UTF-8 with BOM, CRLF",
        header_style=title_style, headers=TITLE_HEADERS,
        file_style=lambda e: title_style(e).replace(" ", "") + ".csv", files=TITLE_FILES,
        encoding="utf-8-sig", lineterminator="\r\n", date_order="MDY",
        date_format="%m/%d/%Y", datetime_format="%m/%d/%Y %I:%M %p",
        booleans=("Yes", "No"), values={"sex": {"M": "Male", "F": "Female"}},
    ),
    Layout(
        name="camel_case",
        description="camelCase headers in alphabetical order, no manifest, day-first DD/MM/YYYY HH:MM, "
                    "extra vendor columns",
        header_style=camel_style, headers=CAMEL_HEADERS,
        file_style=lambda e: camel_style(e) + ".csv", files=CAMEL_FILES,
        date_order="DMY", date_format="%d/%m/%Y", datetime_format="%d/%m/%Y %H:%M",
        booleans=("1", "0"), values={"sex": {"M": "male", "F": "female"}},
        extras={
            "patients": (ExtraColumn("legacyChartNo", ("CH-{n}", "CH-{n}", "")),
                         ExtraColumn("lastSyncedBy", ("sync-service", "frontdesk01", "admin"))),
            "appointments": (ExtraColumn("roomCode", ("R1", "R2", "R3", "TELE", "")),
                             ExtraColumn("lastSyncedBy", ("sync-service", "frontdesk01"))),
            "providers": (ExtraColumn("rosterColour", ("#3366cc", "#dc3912", "#ff9900")),),
        },
        sort_headers=True,
    ),
    Layout(
        name="abbreviated",
        description="abbreviated upper-case headers (PT_ID, DOB, PH, ZIP), one name column "
                    "'Last, First', Y/N flag for providers' status, vendor codes for pick-lists, "
                    "no manifest, MM/DD/YYYY, a dropped column, CRLF",
        header_style=abbreviated_style, headers=ABBR_HEADERS,
        file_style=lambda e: abbreviated_style(e) + ".csv", files=ABBR_FILES,
        lineterminator="\r\n", date_order="MDY", date_format="%m/%d/%Y", datetime_format="%m/%d/%Y %H:%M",
        name_column="last_first", name_header="PT_NAME", flags=("Y", "N"), flag_header="ACTIVE_YN",
        booleans=("Y", "N"),
        values={"preferred_contact_method": {"email": "E", "phone": "P", "sms": "S", "mail": "M"},
                "outcome": {"completed": "ATT", "no-show": "DNA", "cancelled": "CXL", "scheduled": "SCH"},
                "patients.status": {"Active": "A", "Inactive": "I", "Deceased": "D", "Prospect": "P",
                                    "Referral Inquiry": "R"},
                "priority": {"primary": "P", "secondary": "S", "tertiary": "T"}},
        dropped={"clinics": ("website",), "appointments": ("updated_at",)},
    ),
    Layout(
        name="german",
        description="German headers and file names, ';' delimiter, decimal commas with '.' thousands, "
                    "cp1252, DD.MM.YYYY, German pick-list values, no manifest, CRLF",
        header_style=german_style, headers=GERMAN_HEADERS,
        file_style=lambda e: german_style(e) + ".csv", files=GERMAN_FILES,
        delimiter=";", encoding="cp1252", lineterminator="\r\n", date_order="DMY",
        date_format="%d.%m.%Y", datetime_format="%d.%m.%Y %H:%M", decimal="decimal_comma", thousands=".",
        booleans=("ja", "nein"),
        values={"preferred_contact_method": {"email": "E-Mail", "phone": "Telefon", "sms": "SMS", "mail": "Post"},
                "sex": {"M": "männlich", "F": "weiblich"},
                "outcome": {"completed": "wahrgenommen", "no-show": "nicht erschienen",
                            "cancelled": "abgesagt", "scheduled": "geplant"},
                "providers.status": {"active": "aktiv", "inactive": "inaktiv"},
                "patients.status": {"Active": "Aktiv", "Inactive": "Inaktiv", "Deceased": "Verstorben",
                                    "Prospect": "Interessent", "Referral Inquiry": "Überweisungsanfrage"}},
    ),
    Layout(
        name="one_name_column",
        description="one 'Full Name' column 'First Last', currency amounts '$1,234.50', Yes/No flag, "
                    "tab-delimited, MM/DD/YYYY, a manifest naming its own files",
        header_style=title_style, headers=TITLE_HEADERS,
        file_style=lambda e: title_style(e) + ".txt", files={},
        manifest=True, delimiter="\t", date_order="MDY", date_format="%m/%d/%Y",
        datetime_format="%m/%d/%Y %H:%M:%S", thousands=",", currency="$",
        name_column="first_last", name_header="Full Name", flags=("Yes", "No"), flag_header="Active",
        booleans=("Yes", "No"),
    ),
    Layout(
        name="upper_snake",
        description="UPPER_SNAKE headers, file names like export_pat_2024.csv, no manifest, ISO "
                    "datetimes with T and seconds, T/F flag, extra columns, pipe-delimited",
        header_style=upper_style, headers=SNAKE_HEADERS, file_style=snake_file_name, files={},
        delimiter="|", date_order="YMD", date_format="%Y-%m-%d", datetime_format="%Y-%m-%dT%H:%M:%S",
        flags=("T", "F"), flag_header="IS_ACTIVE", booleans=("T", "F"),
        values={"outcome": {"completed": "COMPLETED", "no-show": "NO_SHOW", "cancelled": "CANCELLED",
                            "scheduled": "SCHEDULED"}},
        extras={
            "patients": (ExtraColumn("RECORD_SOURCE", ("PMS", "PMS", "PORTAL", "IMPORT")),
                         ExtraColumn("ROW_VERSION", ("{n}",), after="patient_id")),
            "claims": (ExtraColumn("BATCH_NUMBER", ("B{n}",)),),
        },
    ),
]

LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in _LAYOUT_LIST}


def random_layout(seed: int) -> Layout:
    """The layout `random:<seed>`: header style, synonyms (vendor_vocabulary.RANDOM_SYNONYMS, words
    the proposer was never tuned on), file names, date order, delimiter, decimals, flags and
    sex codes drawn from pools by `seed`; the same seed gives the same layout."""
    import random

    rng = random.Random(seed)
    style_name, style = rng.choice(RANDOM_STYLES)
    headers = {column: style("_".join(rng.choice(words).split()))
               for column, words in RANDOM_SYNONYMS.items() if rng.random() < 0.6}
    files = {entity: style("_".join(rng.choice(names).split())) + ".csv"
             for entity, names in RANDOM_FILES.items() if rng.random() < 0.6}
    order, date_format, datetime_format = rng.choice((
        ("YMD", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"), ("YMD", "%Y/%m/%d", "%Y/%m/%d %H:%M"),
        ("DMY", "%d/%m/%Y", "%d/%m/%Y %H:%M"), ("DMY", "%d.%m.%Y", "%d.%m.%Y %H:%M:%S"),
        ("MDY", "%m/%d/%Y", "%m/%d/%Y %I:%M %p"), ("MDY", "%m-%d-%Y", "%m-%d-%Y %H:%M")))
    decimal = rng.choice(("decimal_point", "decimal_comma"))
    delimiter = rng.choice((";", "\t", "|") if decimal == "decimal_comma" else (",", ";", "\t", "|"))
    booleans = rng.choice((("true", "false"), ("Y", "N"), ("Yes", "No"), ("1", "0"), ("T", "F")))
    sex = rng.choice(({}, {"M": "Male", "F": "Female"}, {"M": "male", "F": "female"}, {"M": "MALE", "F": "FEMALE"}))
    name_column = rng.choice((None, None, "last_first", "first_last"))
    return Layout(
        name=f"random:{seed}",
        description=f"random layout {seed}: {style_name} headers, {order} dates, {decimal}, "
                    f"delimiter {delimiter!r}, flags {booleans[0]}/{booleans[1]}"
                    + (f", one name column {name_column}" if name_column else ""),
        header_style=style, headers=headers, file_style=lambda e: style(e) + ".csv", files=files,
        delimiter=delimiter, date_order=order, date_format=date_format, datetime_format=datetime_format,
        decimal=decimal, thousands=rng.choice(("", "." if decimal == "decimal_comma" else ",")),
        name_column=name_column, name_header=style("client_name"), booleans=booleans,
        values={"sex": sex} if sex else {},
    )


# Writing a layout (one entity file: layout_file.FileWriter).

def _write_vendor_manifest(manifest: dict, files: list[dict], spec: Layout, path: Path) -> None:
    """The generic manifest naming the vendor's files, key headers and, in custom objects and
    relations, the headers the vendor writes for the columns they name."""
    by_entity = {f["entity"]: f for f in files}

    def header_of(entity: str, column: str) -> str:
        columns = by_entity[entity]["columns"] if entity in by_entity else {}
        return next((h for h, c in columns.items() if c == column), column)

    vendor = {k: v for k, v in manifest.items() if k not in ("entities", "encoding")}
    vendor["encoding"] = spec.encoding
    vendor["entities"] = {f["entity"]: {"file": f["file"], "key": f["key"]} for f in files}
    vendor["custom_objects"] = [{**o, "key": header_of(o["entity"], o["key"])}
                                for o in manifest.get("custom_objects", [])]
    vendor["relations"] = [{**r, **{side: {**r[side], "column": header_of(r["entity"], r[side]["column"])}
                                    for side in ("left", "right") if side in r}}
                           for r in manifest.get("relations", [])]
    vendor["workflows"] = "workflows.json"
    path.write_text(json.dumps(vendor, indent=2, ensure_ascii=False), encoding="utf-8")


def write_layout(generic_export: Path, layout: str, out: Path) -> Path:
    """Write the generic export at `generic_export` (the folder holding manifest.json) in vendor
    layout `layout` (a name in LAYOUTS) to `out/export/`, and its ground truth to `out/truth.json`.
    Returns the export folder written. `out/export/` is replaced if it exists.

    Every record is kept (malformed ones stay malformed by as many fields); documents (files/)
    and workflows.json are copied as they are, and document paths stay relative to the export."""
    if layout.startswith("random:") and layout[7:].isdigit():
        spec = random_layout(int(layout[7:]))
    elif layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}: one of {', '.join(LAYOUTS)}, or random:<seed>")
    else:
        spec = LAYOUTS[layout]
    generic_export = Path(generic_export)
    manifest_path = generic_export / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{manifest_path}: not a generic export (no manifest.json)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    source_encoding = manifest.get("encoding", "utf-8")
    out = Path(out)
    export = out / "export"
    source = generic_export.resolve()
    if export.resolve() == source or export.resolve() in source.parents:
        raise ValueError(f"{export} would replace the generic export it is written from: choose another out folder")
    if export.exists():
        shutil.rmtree(export)
    export.mkdir(parents=True)

    files: list[dict] = []
    for entity, entry in manifest["entities"].items():
        source = generic_export / entry["file"]
        file_name = spec.file_name(entity)
        with open(source, encoding=source_encoding, newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise ValueError(f"{source}: empty file, no header")
            writer_state = FileWriter(entity, header, spec)
            with open(export / file_name, "w", encoding=spec.encoding, newline="") as target:
                writer = csv.writer(target, delimiter=spec.delimiter, lineterminator=spec.lineterminator)
                writer.writerow([p.header for p in writer_state.plans])
                rows = 0
                for row in reader:
                    if not row:  # a blank line is no record
                        continue
                    rows += 1
                    writer.writerow(writer_state.row(row, rows))
        truth = writer_state.truth(file_name, rows)
        truth["cells"], truth["changed_cells"] = writer_state.cells, writer_state.changed
        files.append(truth)

    if (generic_export / "files").is_dir():
        shutil.copytree(generic_export / "files", export / "files")
    workflows = manifest.get("workflows", "workflows.json")
    if (generic_export / workflows).is_file():
        shutil.copyfile(generic_export / workflows, export / "workflows.json")
    if spec.manifest:
        _write_vendor_manifest(manifest, files, spec, export / "manifest.json")

    metadata_keys = ("clinic_name", "timezone", "document_url_base", "exported_at", "custom_objects", "relations")
    truth = {
        "layout": spec.name, "description": spec.description,
        "generic_export": str(generic_export.resolve()),
        "manifest": spec.manifest,
        "metadata": {k: manifest[k] for k in metadata_keys if k in manifest},
        "documents_folder": "files", "workflows": "workflows.json",
        "files": files,
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False), encoding="utf-8")
    return export
