"""The mapping on the shared Synthea export: green with the demo's provider emails, and the gate
stops it without them or when an external id is duplicated."""

from __future__ import annotations

import pytest

from clinic2zoho.transform import run_dbt
from tests.dbt.conftest import execute

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_synthea")]


def test_dbt_build_is_green_on_synthea(synthea_warehouse):
    result = synthea_warehouse.result
    assert result.success, result.summary()
    assert not result.errors


def test_synthea_records_land_in_their_zoho_modules(synthea_warehouse):
    wh = synthea_warehouse
    assert wh.scalar("select count(*) from zoho.zoho_contacts") == 27
    assert wh.scalar("select count(*) from zoho.zoho_events") == 604  # encounters -> events
    assert wh.scalar("select count(*) from zoho.zoho_treatments") == 249  # procedures -> treatments
    assert wh.scalar("select count(*) from zoho.zoho_billing_history") == 1267  # every claim
    assert wh.scalar("select count(*) from zoho.zoho_accounts") == 63  # organizations -> accounts
    # claims carry payer ids; their names come from payers.csv
    assert wh.scalar("select count(*) from zoho.zoho_billing_history where Payer_Id is not null and Payer is null") == 0
    # deceased patients are archived contacts, not dropped
    deceased = wh.scalar("select count(*) from raw.synthea__patients where deathdate is not null")
    assert wh.scalar("select count(*) from zoho.zoho_contacts where Patient_Status = 'Deceased' and Archived") == deceased


def test_synthea_rows_are_conserved_with_named_rules(synthea_warehouse):
    rows = synthea_warehouse.query(
        "select staging_model, staged_rows, mapped_rows, excluded_rows, exclusion_rules, unaccounted_rows "
        "from audit.row_conservation where source_format = 'synthea'"
    )
    by_model = {row[0]: row[1:] for row in rows}
    assert all(row[-1] == 0 for row in by_model.values())
    staged, mapped, excluded, rules, _ = by_model["stg_synthea__payer_transitions"]
    assert excluded > 0 and rules == "no_insurance_period" and staged == mapped + excluded
    assert by_model["stg_synthea__claims_transactions"][0] == 5228


def test_events_carry_the_clinic_offset_and_a_resolved_owner(synthea_warehouse):
    wh = synthea_warehouse
    # Synthea instants are UTC; in America/New_York the offset is -05:00 or -04:00 (DST)
    offsets = {row[0] for row in wh.query("select distinct right(Start_DateTime, 6) from zoho.zoho_events")}
    assert offsets <= {"-05:00", "-04:00"} and offsets
    sample = wh.query(
        "select e.Start_DateTime, s.start from zoho.zoho_events e "
        "join raw.synthea__encounters s on s.id = e.Clinic_Appointment_Id where s.start = '2023-01-27T16:17:47Z'"
    )
    assert sample[0][0] == "2023-01-27T11:17:47-05:00"
    assert wh.scalar("select count(*) from zoho.zoho_events where Owner is null") == 0


def test_synthea_gate_fails_without_the_provider_email_overrides(synthea_warehouse, tmp_path):
    broken = synthea_warehouse.copy(tmp_path)
    # the same build without the demo's overrides file: Synthea providers have no email
    result = run_dbt(["build", "--select", "int_provider_emails", "zoho_users_resolution"], warehouse=broken)
    assert not result.success
    assert "assert_record_owners_resolve_to_zoho_users" in result.failed_tests()
    failure = next(f for f in result.errors if f.name == "assert_record_owners_resolve_to_zoho_users")
    assert failure.failures > 0
    assert failure.rows and failure.rows[0]["email_tried"] == "(no email in export or overrides)"
    assert "provider_id=" in result.summary()


def test_a_duplicate_external_id_fails_the_gate(synthea_warehouse, tmp_path):
    broken = synthea_warehouse.copy(tmp_path)
    org_id = synthea_warehouse.scalar("select min(Clinic_Account_Id) from zoho.zoho_accounts")
    # a second export (FHIR) landed into the same warehouse names an organization with the same id
    execute(
        broken,
        "create table if not exists raw.fhir__organization (id varchar, resource varchar, _source_file varchar,"
        " _source_row bigint, _batch_id varchar, _loaded_at timestamptz, _row_hash ubigint)",
        f"""insert into raw.fhir__organization values ('{org_id}',
            '{{"resourceType": "Organization", "id": "{org_id}", "name": "SECOND COPY"}}',
            'Organization.000.ndjson', 1, 'b-test', now(), 1)""",
    )
    result = run_dbt(
        ["build", "--select", "stg_fhir__organization", "int_clinics", "zoho_accounts"],
        warehouse=broken,
        vars=synthea_warehouse.vars,
    )
    assert not result.success
    # caught where the two exports converge; nothing downstream is built from the bad data
    assert result.failed_tests() == ["unique_int_clinics_clinic_id"], result.summary()
    assert result.node_status["model.clinic2zoho.zoho_accounts"] == "skipped"


def test_dbt_docs_generate_works(synthea_warehouse, tmp_path):
    built = synthea_warehouse.copy(tmp_path)
    result = run_dbt(["docs", "generate"], warehouse=built, vars=synthea_warehouse.vars)
    assert result.success, result.summary()
    catalog = (result.target_path / "catalog.json").read_text(encoding="utf-8")
    assert "zoho_contacts" in catalog and "Clinic_Patient_Id" in catalog
