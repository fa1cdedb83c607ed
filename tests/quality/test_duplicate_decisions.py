"""Decisions on duplicate patient pairs: `clinic2zoho resolve-duplicates` writes the work folder's
decision files, and the demo decides from the Data Quality Report alone — checked against the
generator's planted pairs, which it never sees."""

from __future__ import annotations

import csv

import pytest

from clinic2zoho.cli import main
from clinic2zoho.generator import generate_export
from clinic2zoho.landing import land_export
from clinic2zoho.quality import build_quality_report, candidates, decisions, demo_decisions


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_resolve_duplicates_writes_the_decision_files_with_who_decided(tmp_path, capsys):
    work = tmp_path / "work"
    assert main(["resolve-duplicates", "--work", str(work), "--merge", "PT2=PT1", "--merge", "PT4=PT3",
                 "--distinct", "PT6,PT5", "--by", "Dr Grey"]) == 0
    merges, apart = _rows(work / "decisions" / "patient_merges.csv"), _rows(work / "decisions" / "patient_distinct.csv")
    assert [(r["duplicate_patient_id"], r["surviving_patient_id"], r["decided_by"]) for r in merges] == [
        ("PT2", "PT1", "Dr Grey"), ("PT4", "PT3", "Dr Grey")]
    assert [(r["patient_id_1"], r["patient_id_2"], r["decided_by"]) for r in apart] == [("PT5", "PT6", "Dr Grey")]
    assert all(r["decided_at"] for r in merges + apart)
    assert "merge PT2 into PT1, decided by Dr Grey" in capsys.readouterr().out

    # a later decision on a pair replaces the earlier one
    assert main(["resolve-duplicates", "--work", str(work), "--distinct", "PT1,PT2", "--by", "Dr Hunt"]) == 0
    recorded = decisions.read(work / "decisions")
    assert "PT2" not in recorded.merges and recorded.distinct[("PT1", "PT2")]["decided_by"] == "Dr Hunt"
    assert recorded.decision("PT3", "PT4") == "merged" and recorded.decision("PT6", "PT5") == "distinct"


@pytest.mark.parametrize("argv, says", [
    (["--merge", "PT7=PT8"], "say who decides"),
    (["--merge", "PT7=PT7", "--by", "X"], "two different patient ids"),
    (["--merge", "PT7", "--by", "X"], "DUPLICATE=SURVIVOR"),
    (["--merge", "PT3=PT5", "--by", "X"], "PT3 is itself merged into PT5"),  # a chain dbt cannot follow
    (["--distinct", "PT9,PT4", "--by", "X"], "both are merged into PT3"),
])
def test_a_decision_that_cannot_stand_is_refused_and_nothing_is_written(tmp_path, capsys, argv, says):
    work = tmp_path / "work"
    assert main(["resolve-duplicates", "--work", str(work), "--merge", "PT4=PT3", "--merge", "PT9=PT3",
                 "--by", "Dr Grey"]) == 0
    before = (work / "decisions" / "patient_merges.csv").read_bytes()
    capsys.readouterr()
    assert main(["resolve-duplicates", "--work", str(work), *argv]) == 2
    assert says in capsys.readouterr().err
    assert (work / "decisions" / "patient_merges.csv").read_bytes() == before


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """A generated export of 400 patients, landed and scored by the Data Quality Report."""
    root = tmp_path_factory.mktemp("decisions")
    generated = generate_export(root / "gen", 400, seed=11, with_files=False)
    warehouse = root / "warehouse.duckdb"
    land_export(generated.export_dir, warehouse=warehouse)
    build_quality_report(warehouse, root / "reports")
    return generated, warehouse


def test_the_demo_merges_exactly_the_planted_duplicates_into_their_originals(scored, tmp_path):
    generated, warehouse = scored
    to_decide = candidates.read(warehouse, needing_decision=True)
    planted = {d.duplicate_id: d.original_id for d in generated.cases.duplicate_pairs}
    # the decision threshold separates them: every planted pair needs a decision, nothing else does
    assert {frozenset((p["patient_id_1"], p["patient_id_2"])) for p in to_decide} == {
        frozenset(x) for x in planted.items()}
    assert len(candidates.read(warehouse)) >= len(to_decide)

    merges, left = demo_decisions.decide(to_decide, decisions.read(tmp_path))
    assert left == []
    assert {m.duplicate: m.survivor for m in merges} == planted  # the original, with the history, survives
    assert all(m.survivor_records > m.duplicate_records for m in merges)

    # a pair whose birth dates differ (a parent and a child sharing phone and e-mail) is left to a person
    family = [{**to_decide[0], "same_birth_date": False}, *to_decide[1:]]
    merges, left = demo_decisions.decide(family, decisions.read(tmp_path))
    assert left == [(family[0]["patient_id_1"], family[0]["patient_id_2"])] and len(merges) == len(planted) - 1

    # pairs already decided stay as the person decided them
    a, b = next(iter(planted.items()))
    decisions.record(tmp_path, distinct=[(a, b)], by="Dr Grey")
    merges, _ = demo_decisions.decide(to_decide, decisions.read(tmp_path))
    assert a not in {m.duplicate for m in merges} and len(merges) == len(planted) - 1


def test_migrate_records_and_prints_the_demo_decisions_and_passes_them_to_the_dags(scored, tmp_path):
    from clinic2zoho.migrate import Inputs, ensure_duplicate_decisions

    generated, _ = scored
    home = tmp_path / "work"
    inputs = Inputs(generated.export_dir, "generic", generated.zoho_users_path, None, None, generated=True)
    said: list[str] = []
    conf = ensure_duplicate_decisions(inputs, home / "warehouse.duckdb", home, "demo", said.append)
    assert conf == {"patient_merges_file": str(home / "decisions" / "patient_merges.csv"),
                    "patient_distinct_file": str(home / "decisions" / "patient_distinct.csv")}
    rows = _rows(conf["patient_merges_file"])
    planted = {d.duplicate_id: d.original_id for d in generated.cases.duplicate_pairs}
    assert {r["duplicate_patient_id"]: r["surviving_patient_id"] for r in rows} == planted
    assert {r["decided_by"] for r in rows} == {"demo"}
    printed = "\n".join(said)
    assert all(f"{dup} into {orig} (" in printed for dup, orig in planted.items())
    assert "decided on the record by 'demo'" in printed

    said.clear()  # a rerun keeps what was decided and decides nothing more
    assert ensure_duplicate_decisions(inputs, home / "warehouse.duckdb", home, "demo", said.append) == conf
    assert _rows(conf["patient_merges_file"]) == rows and "decided before" in said[0]
