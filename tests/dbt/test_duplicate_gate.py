"""The duplicate gate: the pairs the Data Quality Report scores as one person fail dbt's
`assert_duplicate_patients_decided`, by id, until a person merges them or confirms them as two
different people with `clinic2zoho resolve-duplicates`; the run picks those decisions up from the
work folder. Only the models the gate reads are built (two dbt calls of ~15 s each)."""

from __future__ import annotations

from clinic2zoho.cli import main
from clinic2zoho.generator import generate_export
from clinic2zoho.landing import land_users
from clinic2zoho.orchestration.steps import land_source
from clinic2zoho.quality import build_quality_report
from clinic2zoho.transform import run_dbt
from tests.dbt.conftest import BuiltWarehouse

GATE = ["build", "--select", "+int_duplicate_decisions", "--indirect-selection", "cautious"]


def test_undecided_pairs_fail_the_gate_by_id_until_each_is_merged_or_confirmed_distinct(work_home, tmp_path):
    generated = generate_export(tmp_path / "gen", 200, seed=5, with_files=False)
    planted = {frozenset((d.original_id, d.duplicate_id)) for d in generated.cases.duplicate_pairs}
    assert len(planted) >= 2
    landed = land_source(str(generated.export_dir), "generic")
    warehouse = work_home / "warehouse.duckdb"
    land_users(generated.zoho_users_path, "production", warehouse=warehouse)
    build_quality_report(warehouse)
    assert landed["patient_merges_file"] == "" and landed["patient_distinct_file"] == ""

    stopped = run_dbt(GATE, warehouse)
    assert not stopped.success
    gate = next(e for e in stopped.errors if e.name == "assert_duplicate_patients_decided")
    assert {frozenset((r["patient_id_1"], r["patient_id_2"])) for r in gate.rows} == planted
    assert set(gate.rows[0]) == {"patient_id_1", "patient_id_2", "match_probability", "decision", "to_record"}
    assert "resolve-duplicates" in gate.rows[0]["to_record"]  # what to fill; ids only, no name or birth date
    assert [e.name for e in stopped.errors] == ["assert_duplicate_patients_decided"]

    first, *others = sorted(generated.cases.duplicate_pairs, key=lambda d: d.duplicate_id)
    assert main(["resolve-duplicates", "--merge", f"{first.duplicate_id}={first.original_id}", "--by", "Dr Grey"]) == 0
    distinct = [arg for d in others for arg in ("--distinct", f"{d.original_id},{d.duplicate_id}")]
    assert main(["resolve-duplicates", *distinct, "--by", "Dr Hunt"]) == 0
    landed = land_source(str(generated.export_dir), "generic")
    assert landed["patient_distinct_file"] == str(work_home / "decisions" / "patient_distinct.csv")
    passed = run_dbt(GATE, warehouse, {k: v for k, v in landed.items() if k.endswith("_file") and v})
    assert passed.success, passed.summary()
    built = BuiltWarehouse(warehouse, passed, {})
    decided = dict(((a, b), (d, by)) for a, b, d, by in built.query(
        "SELECT patient_id_1, patient_id_2, decision, decided_by FROM intermediate.int_duplicate_decisions"
        " WHERE needs_decision"))
    assert len(decided) == len(planted)
    assert sorted(d for d, _ in decided.values()) == ["distinct"] * len(others) + ["merged"]
    assert {by for d, by in decided.values() if d == "distinct"} == {"Dr Hunt"}
