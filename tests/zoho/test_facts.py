"""Zoho's figures are written once (zoho/facts.py): the local server's deliberate copy agrees with
them, dbt's vars restate them, and no reader writes one again."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import yaml

from clinic2zoho.zoho import facts
from clinic2zoho.zoho_server import app, coql, limits, metadata, params, record_reads, record_writes, schema, settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_local_servers_copy_of_the_editions_agrees():
    for name, plan in facts.EDITIONS.items():
        assert settings.EDITION_CREDITS[name] == (plan.base_credits, plan.credits_per_user, plan.max_credits), name
        assert settings.EDITION_CONCURRENCY[name] == plan.concurrency, name
        assert settings.EDITION_CUSTOM_FIELDS[name] == facts.CUSTOM_FIELDS[name], name
        assert settings.PLAN_PER_MINUTE.get(name) == facts.PLAN_PER_MINUTE.get(name), name
    # the server also answers to the migration plan's name for Standard, as facts.canonical_edition reads it
    assert set(settings.EDITION_CREDITS) == set(facts.EDITIONS) | {"Starter"}
    assert settings.EDITION_CREDITS["Starter"] == settings.EDITION_CREDITS[facts.canonical_edition("Starter")]
    for users in (0, 1, 10, 45, 1_000, 10_000):
        for name in facts.EDITIONS:
            served = settings.daily_limit({**settings.DEFAULTS, "edition": name}, users)
            assert served == facts.daily_credit_limit(name, users), (name, users)


def test_the_local_servers_copy_of_costs_and_sizes_agrees():
    defaults = settings.DEFAULTS
    assert limits.BULK_JOB_COST == facts.BULK_JOB_CREDITS
    assert defaults["custom_module_credits"] == facts.CUSTOM_MODULE_CREDITS
    assert [limits.write_cost(n) for n in range(1, 301)] == [facts.write_credits(n) for n in range(1, 301)]
    assert [coql.credits_for(n) for n in range(1, 2_001)] == [facts.coql_credits(n) for n in range(1, 2_001)]
    assert limits.HEAVY_WRITE_RECORDS == facts.HEAVY_WRITE_RECORDS
    assert defaults["heavy_write_concurrency"] == facts.MAX_CONCURRENT_BIG_WRITES

    assert params.MAX_WRITE_RECORDS == facts.RECORDS_PER_CALL
    assert record_writes.MAX_DELETE_IDS == facts.IDS_PER_DELETE
    assert record_reads.SEARCH_MAX == facts.SEARCH_REACH
    assert inspect.signature(app.ZohoServer.paging).parameters["max_per_page"].default == facts.PER_PAGE
    assert (coql.MAX_LIMIT, coql.MAX_REACH, coql.MAX_IN_VALUES, coql.MAX_COLUMNS) == (
        facts.COQL_PAGE, facts.COQL_REACH, facts.COQL_IN_VALUES, facts.COQL_SELECT_FIELDS)

    assert (defaults["bulk_max_rows"], defaults["bulk_max_columns"], defaults["bulk_max_bytes"]) == (
        facts.BULK_MAX_ROWS, facts.BULK_MAX_COLUMNS, facts.BULK_MAX_BYTES)
    # Attachments are no module on the server (a record's related list): its copy has no entry to refuse
    assert facts.BULK_REFUSED == schema.BULK_REFUSED | {"Attachments"}

    assert defaults["attachment_max_bytes"] == facts.ATTACHMENT_MAX_BYTES
    assert defaults["note_content_max"] == facts.NOTE_CONTENT_MAX_CHARS


def test_the_attachment_limit_is_the_stricter_of_zohos_pages():
    """Zoho's pages say 20 MB (v1 uploadFile, v2 ZFS upload) and 100 MB (v2 Upload an Attachment):
    unsettled, so the stricter 20, in bytes as the server counts them."""
    assert facts.ATTACHMENT_MAX_BYTES == 20 * 2**20 < 100 * 2**20


def test_the_local_servers_copy_of_field_lengths_agrees():
    for data_type, length in facts.FIELD_LENGTHS.items():
        assert metadata.TEXT_MAX[data_type] == length, data_type
        # a field created without a length takes the most, but for a textarea: 2,000, Zoho's small one
        default = schema.DATA_TYPES[data_type][1]
        assert default == (2_000 if data_type == "textarea" else length), data_type


def test_dbt_vars_restate_the_facts():
    variables = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    assert variables["attachment_max_bytes"] == facts.ATTACHMENT_MAX_BYTES
    # dbt names Zoho's website type url, and checks a note's content as a type of its own
    lengths = {"url" if t == "website" else t: n for t, n in facts.FIELD_LENGTHS.items() if t != "integer"}
    assert variables["zoho_length_limits"] == {**lengths, "note": facts.NOTE_CONTENT_MAX_CHARS}


# A figure written as a number where its fact's name belongs (the server keeps its copy on purpose).
RESTATED = [
    re.compile(r"\b(?:20|25) \* 1024 \* 1024\b"),
    re.compile(r"\b(?:26214400|20971520|26_214_400|20_971_520)\b"),
    re.compile(r"frozenset\(\{\"Notes\", \"Events\""),
    re.compile(r"\b(?:RECORDS_PER_CALL|BULK_JOB_CREDITS|BULK_MAX_ROWS|IDS_PER_DELETE|COQL_IN_VALUES) = \d"),
    re.compile(r"^\s*\w*(?:PAGE|LIST_FIELDS?|FIELD_LIMIT|CRITERIA|PER_CALL|PER_DELETE|IN_VALUES|MAX_ROWS"
               r"|MAX_BYTES|MAX_COLUMNS)\w* = \d"),
    re.compile(r"\"(?:Standard|Enterprise)\": (?:Edition)?\(50_000"),
    re.compile(r"\"(?:text|textarea|email|phone|website)\": (?:255|32_?000|100|30)\b"),
]


def test_no_reader_restates_a_fact():
    sources = [*(ROOT / "include" / "clinic2zoho").rglob("*.py"), *(ROOT / "plugins").rglob("*.py"),
               *(ROOT / "dags").glob("*.py")]
    own = {ROOT / "include" / "clinic2zoho" / "zoho" / "facts.py"}
    server = ROOT / "include" / "clinic2zoho" / "zoho_server"
    found = []
    for path in sources:
        if path in own or server in path.parents:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(p.search(line) for p in RESTATED):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []
