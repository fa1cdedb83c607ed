"""Layout-mandatory fields without a source: the proposer lists them for a person, never fills
them; only a confirmed rule reaches the models (seed layout_mandatory_values).

Zoho's "CRM modules & fields" help page (https://www.zoho.com/crm/help/api/modules-fields.html)
marks a Lead's Company* mandatory; no clinic export here has a column for it."""

from __future__ import annotations

import csv
import io

import pytest

from clinic2zoho.mapping import files, layout_mandatory
from clinic2zoho.mapping.seeds import seed_texts
from clinic2zoho.zoho import ZohoClient
from clinic2zoho.zoho_server.work_orgs import local_config

MODULES = [{"api_name": "Leads", "kind": "standard", "model": "zoho_leads",
            "planned_fields": [{"field": "Last_Name"}, {"field": "First_Name"}]},
           {"api_name": "Contacts", "kind": "standard", "model": "zoho_contacts", "planned_fields": [{"field": "Last_Name"}]}]
ENTITIES = [{"entity": "patients", "fields": [{"column": "surname", "target": "Contacts.Last_Name"}]}]


def test_proposal_lists_company_for_a_person_and_fills_nothing():
    entries = layout_mandatory.propose_entries(MODULES, ENTITIES, previous=None)
    assert [(e["module"], e["field"], e["value"], e["status"]) for e in entries] == [
        ("Leads", "Company", None, layout_mandatory.NEEDS_A_PERSON)]
    assert "employer" in entries[0]["suggestion"]


def test_a_column_mapped_to_the_field_needs_no_rule():
    mapped = ENTITIES + [{"entity": "patients", "fields": [{"column": "employer", "target": "Leads.Company"}]}]
    assert layout_mandatory.propose_entries(MODULES, mapped, previous=None) == []


def test_a_confirmed_rule_survives_a_new_proposal():
    rule = {"module": "Leads", "field": "Company", "value": "Individual (patient)", "confirmed_by": "Dr Ruiz",
            "confirmed_at": "2026-12-05T02:00:00+00:00"}
    assert layout_mandatory.propose_entries(MODULES, ENTITIES, {"layout_mandatory": [rule]}) == [rule]


def test_proposal_reads_the_orgs_layouts(zoho_server):
    with ZohoClient(local_config(zoho_server)) as client:
        entries = layout_mandatory.propose_entries(MODULES, ENTITIES, None, client)
    assert {(e["module"], e["field"]) for e in entries} == {("Leads", "Company")}
    zoho_server.settings(layout_required={"Contacts": ["Mailing_City"]})  # an org whose layout asks more
    with ZohoClient(local_config(zoho_server)) as client:
        entries = layout_mandatory.propose_entries(MODULES, ENTITIES, None, client)
    assert {(e["module"], e["field"]) for e in entries} == {("Leads", "Company"), ("Contacts", "Mailing_City")}


def _seed(mappings: list[dict]) -> list[dict]:
    return list(csv.DictReader(io.StringIO(seed_texts(mappings)[f"{layout_mandatory.SEED}.csv"])))


def _mapping(fmt: str, **rule) -> dict:
    return {"format": fmt, "modules": MODULES, "entities": [],
            "layout_mandatory": [{"module": "Leads", "field": "Company", **rule}]}


def test_only_a_confirmed_rule_reaches_the_seed():
    unconfirmed = _seed([_mapping("generic", value="Individual (patient)")])  # no confirmed_by: not a rule yet
    assert [(r["zoho_model"], r["column_name"], r["value"]) for r in unconfirmed] == [("zoho_leads", "Company", "")]
    rows = _seed([_mapping("generic", value="Individual (patient)", confirmed_by="Dr Ruiz", confirmed_at="t")])
    assert [(r["value"], r["confirmed_by"]) for r in rows] == [("Individual (patient)", "Dr Ruiz")]
    model_columns = seed_texts([_mapping("generic", value=None)])["mapping_model_columns.csv"]
    assert "zoho_leads,Company,layout,generic" in model_columns  # the model's column is named by the file


def test_two_formats_confirming_different_values_conflict():
    with pytest.raises(layout_mandatory.LayoutRuleConflict):
        _seed([_mapping("generic", value="A", confirmed_by="x"), _mapping("synthea", value="B", confirmed_by="y")])


def test_shipped_mappings_carry_a_confirmed_company_rule():
    for mapping in files.read_all():
        rules = {(e["module"], e["field"]): e for e in mapping.get("layout_mandatory") or []}
        assert layout_mandatory.confirmed(rules[("Leads", "Company")]), mapping["format"]


def test_review_page_puts_the_missing_rule_first(tmp_path):
    from clinic2zoho.mapping.review import write_review

    mapping = {"format": "generic", "proposed_at": "t", "entities": [], "layout_mandatory": [
        {"module": "Contacts", "field": "Mailing_City", "value": "Springfield", "confirmed_by": "Dr Ruiz",
         "confirmed_at": "t"},
        *layout_mandatory.propose_entries(MODULES, ENTITIES, previous=None)]}
    html = write_review(mapping, tmp_path / "review.html").read_text()
    section = html.split("no source in the export", 1)[1]
    assert section.index("Leads.Company") < section.index(layout_mandatory.NEEDS_A_PERSON) < section.index("Springfield")


def test_a_person_supplies_the_value_with_confirm_set(tmp_path):
    """`clinic2zoho confirm --by NAME --set Leads.Company=VALUE`: the value, who and when reach the
    mapping file and the seed the models read; a field no proposal listed is refused."""
    import shutil

    from clinic2zoho.cli import main
    from tests.conftest import ROOT

    dbt = tmp_path / "dbt_project"
    shutil.copytree(ROOT / "dbt_project", dbt, ignore=shutil.ignore_patterns("target", "logs", "confirmation.yml"))
    path = files.mapping_path("generic", dbt)
    mapping = files.read_mapping(path)
    mapping["layout_mandatory"] = [{"module": "Leads", "field": "Company", "value": None, "confirmed_by": None,
                                    "confirmed_at": None, "status": layout_mandatory.NEEDS_A_PERSON}]
    files.write_mapping(mapping, path)
    assert layout_mandatory.needing_a_person([files.read_mapping(path)]) == ["Leads.Company (generic)"]

    assert main(["confirm", "--by", "Dr Ruiz", "--dbt-project", str(dbt), "--set", "Leads.Phone=none"]) == 1
    assert main(["confirm", "--by", "Dr Ruiz", "--dbt-project", str(dbt),
                 "--set", "Leads.Company=Individual (patient)"]) == 0
    entry = files.read_mapping(path)["layout_mandatory"][0]
    assert (entry["value"], entry["confirmed_by"]) == ("Individual (patient)", "Dr Ruiz") and entry["confirmed_at"]
    seed = list(csv.DictReader(io.StringIO((dbt / "seeds" / f"{layout_mandatory.SEED}.csv").read_text())))
    assert [(r["zoho_model"], r["column_name"], r["value"], r["confirmed_by"]) for r in seed if r["module"] == "Leads"] \
        == [("zoho_leads", "Company", "Individual (patient)", "Dr Ruiz")]
