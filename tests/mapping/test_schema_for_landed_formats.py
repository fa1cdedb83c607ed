"""prepare-schema creates what the mapping files of the formats landed in the warehouse use, nothing
more: with the shipped generic and Synthea mapping files both confirmed, a generic-only landing
gives the org no Synthea-only Contacts.Marital (nor Synthea's encounter classes as appointment types);
once the Synthea export is landed too, the next run adds them. Against the local Zoho server."""

from __future__ import annotations

import shutil

import pytest

from clinic2zoho.landing import land_export
from clinic2zoho.mapping import confirmation
from clinic2zoho.mapping.schema_command import landed_formats, prepare_schema
from clinic2zoho.settings import DBT_PROJECT_DIR
from tests.mapping.conftest import client_for


def _fields(client, module: str) -> dict[str, dict]:
    return {f["api_name"]: f for f in client.fields(module)}


def _values(field: dict) -> set[str]:
    return {v.get("actual_value") or v.get("display_value") for v in field.get("pick_list_values") or []}


@pytest.fixture
def shipped_mappings(dbt_copy):
    (dbt_copy / "mapping").mkdir()
    for fmt in ("generic", "synthea"):
        shutil.copy(DBT_PROJECT_DIR / "mapping" / f"{fmt}.yml", dbt_copy / "mapping" / f"{fmt}.yml")
    confirmation.confirm("test reviewer", dbt_copy)
    return dbt_copy


def test_a_generic_landing_gets_no_synthea_field_and_a_synthea_landing_does(
        shipped_mappings, generic_warehouse, synthea_dir, zoho_server):
    client = client_for(zoho_server)
    assert landed_formats(generic_warehouse) == ["generic"]
    lines: list[str] = []
    prepare_schema(client, shipped_mappings, run_id="generic-only", warehouse=generic_warehouse, log=lines.append)
    assert "preparing the schema for the landed format(s): generic" in lines
    contacts = _fields(client, "Contacts")
    assert "Marital" not in contacts
    # what the generic export does use is there: consent and the appointment-type pick-list
    assert contacts["SMS_Opt_Out"]["data_type"] == "boolean" and contacts["Email_Opt_Out"]["data_type"] == "boolean"
    assert _values(contacts["Preferred_Contact_Method"]) >= {"Email", "Phone", "SMS", "Mail"}
    types = _values(_fields(client, "Events")["Appointment_Type"])
    assert {"New Patient", "Follow-up", "Consultation"} <= types and "Wellness" not in types

    land_export(synthea_dir, "synthea", generic_warehouse)
    assert landed_formats(generic_warehouse) == ["generic", "synthea"]
    prepare_schema(client, shipped_mappings, run_id="with-synthea", warehouse=generic_warehouse, log=lines.append)
    assert _fields(client, "Contacts")["Marital"]["data_type"] == "picklist"
    assert "Wellness" in _values(_fields(client, "Events")["Appointment_Type"])


def test_nothing_landed_names_what_to_do(shipped_mappings, work_home, zoho_server):
    with pytest.raises(SystemExit, match="no export landed in .*: land it first"):
        prepare_schema(client_for(zoho_server), shipped_mappings, warehouse=work_home / "empty.duckdb")
