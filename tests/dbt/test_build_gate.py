"""The DAGs' one `dbt build` runs its tests as warnings (var tests_warn_only) so that a failing test
skips nothing after it; the gate is then decided from the build's results
(clinic2zoho.transform.build_gate). Checked against dbt's own verdict: on a warehouse with planted
faults, the tests the gate stops on are exactly those a plain `dbt test` fails, and every warning
dbt gives is a warning of the gate, never a stop."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from clinic2zoho.transform import run_dbt
from clinic2zoho.transform.build_gate import WARN_ONLY_VAR, gate_message, read_test_outcomes, summary
from tests.dbt.conftest import execute

pytestmark = pytest.mark.xdist_group("dbt_small_generic")

SELECT = ["--select", "zoho_contacts", "zoho_insurance", "warn_contacts_sharing_an_email"]


def test_the_warn_only_build_stops_on_what_dbt_fails_and_warns_on_what_dbt_warns(small_generic_warehouse, tmp_path):
    built = small_generic_warehouse
    copy = built.copy(tmp_path / "faults")
    with duckdb.connect(str(copy), read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT Clinic_Patient_Id FROM zoho.zoho_contacts WHERE Email IS NOT NULL "
                                         "ORDER BY Clinic_Patient_Id").fetchall()]
        plan = con.execute("SELECT min(Clinic_Insurance_Id) FROM zoho.zoho_insurance").fetchone()[0]
    born = ids[: max(3, len(ids) // 50)]  # over 1%: a shape check that stops the gate
    quoted = ", ".join(f"'{k}'" for k in born)
    execute(
        copy,
        f"UPDATE zoho.zoho_contacts SET Date_of_Birth = '2090-01-01' WHERE Clinic_Patient_Id IN ({quoted})",
        f"UPDATE zoho.zoho_contacts SET Last_Name = NULL WHERE Clinic_Patient_Id = '{ids[-1]}'",  # not_null
        # under 1%: a shape warning (an open-ended plan ending 9999-12-31)
        f"UPDATE zoho.zoho_insurance SET Termination_Date = '9999-12-31' WHERE Clinic_Insurance_Id = '{plan}'",
    )

    dbt = run_dbt(["test", *SELECT], copy, built.vars)
    assert not dbt.success
    failed = {e.name for e in dbt.errors}
    assert {"zoho_shape_zoho_contacts_Date_of_Birth__birth_date", "not_null_zoho_contacts_Last_Name"} <= failed

    warn_only = run_dbt(["test", *SELECT], copy, {**built.vars, WARN_ONLY_VAR: True})
    assert warn_only.success and not warn_only.errors  # nothing failed: nothing downstream would skip
    outcomes = read_test_outcomes(warn_only.target_path, copy)
    assert len(outcomes) == sum(1 for key in dbt.node_status if key.startswith("test."))  # the same tests ran
    stops = {o.name for o in outcomes if o.stops}
    warns = {o.name for o in outcomes if o.warns}
    assert stops == failed
    assert {w.name for w in dbt.warnings} <= warns and not warns & failed
    assert "zoho_shape_zoho_insurance_Termination_Date__date" in warns  # below its threshold
    # a passing test's failures are the rows its table holds, each table counted here on its own
    counted = stored_failure_rows(warn_only.target_path, copy)
    passed = {o.name: o.failures for o in outcomes if o.status == "pass" and o.name in counted}
    assert passed == {name: rows for name, rows in counted.items() if name in passed}
    assert len(passed) > 10 and any(passed.values()) and not all(passed.values())  # both kinds compared
    found = summary(outcomes)
    message = gate_message(found)
    assert message is not None and all(name in message for name in failed)
    assert "2090" not in message  # names and counts, never a value


def test_a_clean_warn_only_build_passes_the_gate_with_dbts_warnings(small_generic_warehouse, tmp_path):
    """dbt's verdict here is the fixture's own plain `dbt build` of the same warehouse."""
    built = small_generic_warehouse
    copy = built.copy(tmp_path / "clean")
    warn_only = run_dbt(["test", *SELECT], copy, {**built.vars, WARN_ONLY_VAR: True})
    outcomes = read_test_outcomes(warn_only.target_path, copy)
    selected = {o.name for o in outcomes}
    assert built.result.success and gate_message(summary(outcomes)) is None
    assert {w.name for w in built.result.warnings if w.name in selected} == {o.name for o in outcomes if o.warns}
    assert any(o.warns for o in outcomes)  # the comparison has warnings to compare


def stored_failure_rows(target: Path, warehouse: Path) -> dict[str, int]:
    """Each test of the run that stored its failing rows: the rows its table holds."""
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    ran = {r["unique_id"] for r in json.loads((target / "run_results.json").read_text())["results"]}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {node["name"]: con.execute(f"SELECT count(*) FROM {node['relation_name']}").fetchone()[0]
                for uid, node in nodes.items()
                if uid in ran and node.get("relation_name") and node["config"].get("store_failures")}
