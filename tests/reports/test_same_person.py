"""Validation fails when Zoho holds two records of one person: a duplicate pair the Data Quality
Report scores as one person, both of them planted in the local org, read back from Zoho. Works on a
copy of the shared scenario's warehouse and removes what it planted."""

from __future__ import annotations

import shutil

import pytest

from clinic2zoho.quality import build_quality_report, candidates
from clinic2zoho.reports import validate_run
from clinic2zoho.transform import run_dbt
from tests.reports.scenario import reports_scenario  # noqa: F401  (session fixture)

pytestmark = pytest.mark.xdist_group("reports")


def test_two_records_of_one_person_in_zoho_fail_validation_unless_confirmed_distinct(reports_scenario, tmp_path):
    s = reports_scenario
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(s.warehouse, warehouse)
    build_quality_report(warehouse, tmp_path / "quality")  # the pairs, as the cutover's quality step scores them
    pair = candidates.read(warehouse, needing_decision=True)[0]
    ids = (pair["patient_id_1"], pair["patient_id_2"])
    built = run_dbt(["run", "--select", "int_duplicate_decisions"], warehouse)
    assert built.success, built.summary()

    planted = []
    with s.client() as client:
        held = {r["Clinic_Patient_Id"] for r in client.iter_records("Contacts", ["Clinic_Patient_Id"])}
        missing = [i for i in ids if i not in held]
        results = client.insert("Contacts", [{"Last_Name": "Planted", "Clinic_Patient_Id": i} for i in missing])
        planted = [r.id for r in results if r.ok]
        assert len(planted) == len(missing)
        try:
            result = validate_run(s.run_id, client, warehouse=warehouse, journal_root=s.journal, manifest=s.manifest,
                                  reports_dir=tmp_path / "first", seed=1)
            assert not result.ok
            assert (*ids, "undecided") in [tuple(t) for t in result.same_person["twice"]]
            line = next(p for p in result.problems if p.startswith("Zoho holds"))
            assert f"{ids[0]} & {ids[1]}" in line and "Planted" not in line
            assert result.same_person["read"]["Contacts"] == len(held) + len(planted)

            # a person confirms they are two people: validation no longer counts them as one
            distinct = tmp_path / "distinct.csv"
            distinct.write_text(f"patient_id_1,patient_id_2,decided_by,decided_at\n{ids[1]},{ids[0]},Dr Grey,"
                                "2026-01-05T10:00:00+00:00\n")
            built = run_dbt(["run", "--select", "int_patient_distinct", "int_duplicate_decisions"], warehouse,
                            {"patient_distinct_file": str(distinct)})
            assert built.success, built.summary()
            again = validate_run(s.run_id, client, warehouse=warehouse, journal_root=s.journal, manifest=s.manifest,
                                 reports_dir=tmp_path / "second", seed=1)
            assert ids not in [tuple(t[:2]) for t in again.same_person["twice"]]
        finally:
            assert all(r.ok for r in client.delete("Contacts", planted))
