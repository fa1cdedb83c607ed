"""Sample selection over a dbt-built warehouse of 2,400 generated patients: 100-300 patients,
deterministic for a seed, stratified, with every related record and nothing else."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from clinic2zoho.sample import select_sample
from clinic2zoho.sample.selection import DIMENSIONS, PATIENT_MODULES, _patient_links
from tests.reports.scenario import reports_scenario  # noqa: F401  (session fixture)

pytestmark = pytest.mark.xdist_group("reports")


@pytest.fixture
def warehouse(reports_scenario, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(reports_scenario.pristine, path)
    return path


def test_the_sample_is_deterministic_for_a_seed_and_within_bounds(reports_scenario, warehouse):
    plan = reports_scenario.full_plan
    first = select_sample(warehouse, plan=plan, seed=3)
    again = select_sample(warehouse, plan=plan, seed=3)
    other = select_sample(warehouse, plan=plan, seed=4)
    assert first.patients == again.patients and first.tables == again.tables
    assert first.patients != other.patients
    assert 100 <= first.size <= 300 and first.size == max(100, round(0.05 * first.population))
    assert select_sample(warehouse, plan=plan, seed=3, share=0.5).size == 300
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("SELECT count(*) FROM ops.sample_patients").fetchone()[0] == 300  # the last selection


def test_the_sample_represents_every_stratum_value_in_proportion(reports_scenario, warehouse):
    sel = select_sample(warehouse, plan=reports_scenario.full_plan, seed=3)
    assert set(sel.shares) == set(DIMENSIONS)
    for dim, values in sel.shares.items():
        for value, (whole, part) in values.items():
            assert part > 0, f"{dim}={value} missing from the sample"
            assert abs(whole - part) <= 0.05 + 2 / sel.size, (dim, value, whole, part)


def test_every_related_record_and_nothing_else(reports_scenario, warehouse):
    plan = reports_scenario.full_plan
    sel = select_sample(warehouse, plan=plan, seed=3)
    con = duckdb.connect(str(warehouse), read_only=True)
    sampled = {r[0] for r in con.execute("SELECT Clinic_Patient_Id FROM ops.sample_patients").fetchall()}
    assert sampled == set(sel.patients)
    for spec in plan.specs:
        name = spec.table.rpartition(".")[2]
        if spec.module in PATIENT_MODULES:
            cols = [spec.external_id]
        else:
            cols = _patient_links(spec)
        if not cols:
            continue
        cond = " OR ".join(f"{c} IN (SELECT Clinic_Patient_Id FROM ops.sample_patients)" for c in cols)
        want = con.execute(f"SELECT count(*) FROM zoho.{name} WHERE {cond}").fetchone()[0]
        got = con.execute(f"SELECT count(*) FROM sample.{name}").fetchone()[0]
        outside = con.execute(f"SELECT count(*) FROM sample.{name} WHERE NOT ({cond})").fetchone()[0]
        assert (got, outside) == (want, 0), spec.module
        assert got == sel.tables[spec.module]
    # what the sampled records point at is in the sample too (the loader resolves every lookup)
    for spec in sel.plan.specs:
        for col, target in spec.lookups.items():
            target_spec = sel.plan.spec(target)
            missing = con.execute(
                f"SELECT count(*) FROM {spec.table} WHERE {col} IS NOT NULL AND {col} NOT IN"
                f" (SELECT {target_spec.external_id} FROM {target_spec.table})").fetchone()[0]
            full_missing = con.execute(
                f"SELECT count(*) FROM zoho.{spec.table.rpartition('.')[2]} WHERE {col} IN (SELECT {col} FROM"
                f" {spec.table}) AND {col} NOT IN (SELECT {target_spec.external_id} FROM"
                f" zoho.{target_spec.table.rpartition('.')[2]})").fetchone()[0]
            assert missing <= full_missing, (spec.module, col)
    assert sel.tables["Notes"] > 0 and sel.tables["Insurance"] > 0 and sel.tables["Events"] > 0
