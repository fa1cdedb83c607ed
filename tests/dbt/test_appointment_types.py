"""Appointment types as a pick-list: every type of the generated export has a value in the seed
appointment_type_map the mapping file writes, Events and Tasks carry it in Appointment_Type
(Tasks keep Visit_Type = Visit), and a type the map lacks is a gate warning naming it."""

from __future__ import annotations

import csv

import pytest

from clinic2zoho.settings import DBT_PROJECT_DIR
from clinic2zoho.transform import run_dbt
from tests.dbt.conftest import execute

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_generic")]  # shares generic_warehouse


def _type_map() -> dict[str, str]:
    with open(DBT_PROJECT_DIR / "seeds" / "appointment_type_map.csv", encoding="utf-8", newline="") as fh:
        return {row["source_type"]: row["Appointment_Type"] for row in csv.DictReader(fh)}


def _exported_types(generated_export) -> dict[str, str]:
    with open(generated_export.export_dir / "appointments.csv", encoding="utf-8", newline="") as fh:
        return {row["appointment_id"]: row["appointment_type"] for row in csv.DictReader(fh)}


def test_every_exported_type_is_mapped_and_reaches_events_and_tasks(generic_warehouse, generated_export):
    result = generic_warehouse.result
    assert result.node_status["test.clinic2zoho.warn_unmapped_appointment_types"] == "pass"
    exported, type_map = _exported_types(generated_export), _type_map()
    distinct = {t.strip().lower() for t in exported.values() if t.strip()}
    assert len(distinct) == 9 and distinct <= set(type_map)
    for model in ("zoho_events", "zoho_tasks"):
        rows = generic_warehouse.query(f"select Clinic_Appointment_Id, Appointment_Type from zoho.{model}")
        assert rows
        for appointment_id, appointment_type in rows:
            assert appointment_type == type_map[exported[appointment_id].strip().lower()], appointment_id
    # the product rule stays: a past visit without times is a closed Task of type Visit
    assert generic_warehouse.query("select distinct Visit_Type, Status from zoho.zoho_tasks") == [("Visit", "Completed")]


def test_an_unmapped_type_is_a_warning_naming_it(generic_warehouse, tmp_path):
    broken = generic_warehouse.copy(tmp_path)
    execute(broken, "update raw.generic__appointments set appointment_type = 'Walk-in Clinic' "
                    "where appointment_id = (select min(appointment_id) from raw.generic__appointments "
                    "where appointment_type = 'Sick Visit')")
    result = run_dbt(["build", "--select", "stg_generic__appointments", "int_appointments_unioned", "int_appointments",
                      "warn_unmapped_appointment_types"], warehouse=broken, vars=generic_warehouse.vars)
    warning = next(w for w in result.warnings if w.name == "warn_unmapped_appointment_types")
    assert [(row["unmapped_appointment_type"], row["appointments"]) for row in warning.rows] == [("walk-in clinic", 1)]
