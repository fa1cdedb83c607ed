"""The load order comes from the lookups between the Zoho tables, read from dbt's manifest."""

from __future__ import annotations

import json

import pytest

from clinic2zoho.loader.plan import LoadPlan, ModuleSpec, PlanError, plan_from_manifest


def _clinic_plan() -> LoadPlan:
    return LoadPlan((
        ModuleSpec("zoho.zoho_notes", "Notes", "Clinic_Note_Id", parent_column="Parent_Id", parent_module="Contacts"),
        ModuleSpec("zoho.zoho_events", "Events", "Clinic_Appointment_Id", {"Who_Id": "Contacts"}, owner_column="Owner"),
        ModuleSpec("zoho.zoho_contacts", "Contacts", "Clinic_Patient_Id", {"Account_Name": "Accounts"}),
        ModuleSpec("zoho.zoho_accounts", "Accounts", "Clinic_Account_Id"),
        ModuleSpec("zoho.zoho_insurance", "Insurance", "Clinic_Insurance_Id", {"Contact": "Contacts"}),
        ModuleSpec("zoho.zoho_leads", "Leads", "Clinic_Patient_Id"),
        ModuleSpec("zoho.zoho_attachments", "Attachments", "Clinic_Document_Id", parent_column="Parent_Id",
                   parent_module="Contacts"),
        ModuleSpec("zoho.zoho_invoices", "Invoices", "Clinic_Claim_Id", {"Contact_Name": "Contacts", "Product": "Products"},
                   subforms=("Invoiced_Items",)),
    ))


def test_order_follows_lookups_and_groups_independent_modules():
    groups = _clinic_plan().groups()
    assert groups == [
        ["Accounts", "Leads"],
        ["Contacts"],
        ["Attachments", "Events", "Insurance", "Invoices", "Notes"],
    ]


def test_lookup_to_a_module_outside_the_plan_orders_nothing():
    plan = _clinic_plan()
    assert "Products" not in plan.order()
    assert plan.order().index("Invoices") > plan.order().index("Contacts")


def test_a_cycle_of_lookups_is_refused_with_its_path():
    plan = LoadPlan((ModuleSpec("a", "A", "x", {"b": "B"}), ModuleSpec("b", "B", "y", {"a": "A"})))
    with pytest.raises(PlanError, match="cycle"):
        plan.groups()


def test_bulk_is_refused_for_notes_events_calls_and_subforms():
    plan = _clinic_plan()
    assert plan.spec("Contacts").bulk_allowed
    assert not plan.spec("Events").bulk_allowed
    assert not plan.spec("Notes").bulk_allowed
    assert not plan.spec("Invoices").bulk_allowed  # line items go inline through the record API


def test_plan_round_trips_through_json():
    plan = _clinic_plan()
    assert LoadPlan.from_json(plan.to_json()) == plan


def _node(name, meta, schema="zoho"):
    return {"resource_type": "model", "name": name, "alias": name, "schema": schema, "config": {"meta": meta}}


def test_plan_from_manifest_reads_meta(tmp_path):
    manifest = {"nodes": {
        "model.p.zoho_contacts": _node("zoho_contacts", {"zoho_module": "Contacts", "external_id": "Clinic_Patient_Id",
                                                         "lookups": {"Account_Name": "Accounts"}}),
        "model.p.zoho_accounts": _node("zoho_accounts", {"zoho_module": "Accounts", "external_id": "Clinic_Account_Id"}),
        "model.p.zoho_notes": _node("zoho_notes", {"zoho_module": "Notes", "external_id": "Clinic_Note_Key",
                                                   "lookups": {"Parent_Id": "Contacts"}}),
        "model.p.zoho_events": _node("zoho_events", {"zoho_module": "Events", "external_id": "Clinic_Appointment_Id",
                                                     "lookups": {"Who_Id": "Contacts"}, "owner_column": "Owner"}),
        "model.p.stg_x": _node("stg_x", {}, schema="staging"),
        "test.p.t": {"resource_type": "test", "name": "t"},
    }}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    plan = plan_from_manifest(path)
    assert plan.groups() == [["Accounts"], ["Contacts"], ["Events", "Notes"]]
    notes = plan.spec("Notes")
    assert (notes.parent_column, notes.parent_module, notes.lookups) == ("Parent_Id", "Contacts", {})
    assert plan.spec("Events").owner_column == "Owner"
    assert plan.spec("Contacts").table == "zoho.zoho_contacts"


def test_missing_manifest_names_the_file(tmp_path):
    with pytest.raises(PlanError, match="manifest.json"):
        plan_from_manifest(tmp_path / "manifest.json")


def test_manifest_meta_for_a_parent_in_contacts_or_leads_and_invoice_lines(tmp_path):
    notes_meta = {"zoho_module": "Notes", "external_id": None, "match_on": "Note_Title",
                  "lookups": {"Parent_Id": "Contacts"},
                  "parent_lookup": {"column": "Parent_Id", "module_column": "Parent_Module",
                                    "modules": ["Contacts", "Leads"]}}
    invoices_meta = {"zoho_module": "Invoices", "external_id": "Clinic_Claim_Id", "lookups": {"Contact_Name": "Contacts"},
                     "subforms": {"Invoiced_Items": {"format": "json", "product_lookup_by_name": "Clinic services"}}}
    manifest = {"nodes": {
        "model.p.zoho_notes": _node("zoho_notes", notes_meta),
        "model.p.zoho_invoices": _node("zoho_invoices", invoices_meta),
        "model.p.zoho_contacts": _node("zoho_contacts", {"zoho_module": "Contacts", "external_id": "Clinic_Patient_Id"}),
        "model.p.zoho_leads": _node("zoho_leads", {"zoho_module": "Leads", "external_id": "Clinic_Patient_Id"}),
    }}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    plan = plan_from_manifest(path)
    notes = plan.spec("Notes")
    assert (notes.parent_column, notes.parent_module_column, notes.parent_modules) == (
        "Parent_Id", "Parent_Module", ("Contacts", "Leads"))
    assert plan.groups() == [["Contacts", "Leads"], ["Invoices", "Notes"]]  # notes wait for both parents
    assert plan.spec("Invoices").subforms == ("Invoiced_Items",)
