"""The admin's sign-off of the sample run: recorded with who, when, the diff file and its hash and
the mapping hash; required by the cutover's gate with the mapping as confirmed now; refused when
the mapping changed since the sample, when the diff is not the run's, or when it has mismatches
nobody accepted; and `migrate` signs off on the record without ever overriding a person."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from clinic2zoho.cli import main
from clinic2zoho.mapping import confirmation
from clinic2zoho.orchestration import signoff

from tests.fixtures.dbt_project import copy_dbt_project

RUN = "manual__2026-12-04T20:44:53.470942+00:00"
KEY = "manual__2026-12-04T20_44_53.470942_00_00"


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A copy of the dbt project with the generic mapping, confirmed."""
    dest = copy_dbt_project(tmp_path / "dbt_project", mapping=["generic.yml"])
    monkeypatch.setenv("CLINIC2ZOHO_DBT_PROJECT", str(dest))
    confirmation.confirm("mapping reviewer", dest)
    return dest


@pytest.fixture
def work(tmp_path) -> Path:
    (tmp_path / "work" / "reports").mkdir(parents=True)
    return tmp_path / "work"


def write_diff(work: Path, project: Path, mismatches: int = 0, run: str = RUN) -> Path:
    """What the sample DAG leaves: sample_diff.csv and its record, made with the confirmed mapping."""
    path = work / "reports" / "sample_diff.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["status", "module", "record", "field", "expected", "actual", "rule", "zoho_id"])
        for i in range(3):
            writer.writerow(["mismatch" if i < mismatches else "match", "Contacts", f"PT{i:07d}", "Phone", "", "",
                             "zoho_contacts.Phone", str(i)])
    signoff.record_sample_diff(run, path, fields=3, mismatches=mismatches,
                               mapping_hash=confirmation.read_confirmation(project).hash)
    return path


def test_a_sign_off_records_who_when_which_diff_and_the_mapping_hash(work, project):
    diff = write_diff(work, project)
    record = signoff.sign_off(work, RUN, "Dr Admin", dbt_dir=project)
    on_disk = json.loads((work / "signoffs" / f"{KEY}.json").read_text())
    assert on_disk["by"] == "Dr Admin" and on_disk["decision"] == "signed_off" and on_disk["at"]
    assert on_disk["run"] == KEY and on_disk["diff"] == "reports/sample_diff.csv"
    assert on_disk["diff_sha256"] == hashlib.sha256(diff.read_bytes()).hexdigest()
    assert on_disk["mapping_hash"] == confirmation.read_confirmation(project).hash == record.mapping_hash
    assert signoff.require_signoff(work, project) == record


def test_the_cutover_gate_without_a_sign_off_names_the_command(work, project):
    with pytest.raises(signoff.SampleNotSignedOff, match=r"clinic2zoho sign-off --run RUN --by NAME --work"):
        signoff.require_signoff(work, project, task="the DAG clinic_cutover")


def test_a_mapping_confirmed_again_since_the_sample_voids_the_sign_off(work, project):
    write_diff(work, project)
    signoff.sign_off(work, RUN, "Dr Admin", dbt_dir=project)
    model = project / "models" / "zoho" / "zoho_contacts.sql"
    model.write_text(model.read_text() + "\n-- corrected after the sample\n")
    # not confirmed yet: the mapping gate itself refuses
    with pytest.raises(confirmation.MappingNotConfirmed):
        signoff.require_signoff(work, project)
    confirmation.confirm("mapping reviewer", project)
    with pytest.raises(signoff.SampleNotSignedOff, match=r"confirmed again since.*clinic2zoho sign-off"):
        signoff.require_signoff(work, project)
    # and the old sample cannot be signed off again with the new mapping
    with pytest.raises(signoff.SignOffError, match="run the sample migration again"):
        signoff.sign_off(work, RUN, "Dr Admin", dbt_dir=project)


def test_a_mapping_edited_since_the_sample_is_refused_at_sign_off(work, project):
    write_diff(work, project)
    model = project / "models" / "zoho" / "zoho_contacts.sql"
    model.write_text(model.read_text() + "\n-- edited\n")
    with pytest.raises(signoff.SignOffError, match=r"zoho_contacts.sql"):
        signoff.sign_off(work, RUN, "Dr Admin", dbt_dir=project)
    assert not (work / "signoffs").exists()


def test_only_the_run_whose_diff_is_there_and_unchanged_can_be_signed_off(work, project):
    diff = write_diff(work, project)
    with pytest.raises(signoff.SignOffError, match=f"is of run {KEY}, not other_run"):
        signoff.sign_off(work, "other_run", "Dr Admin", dbt_dir=project)
    diff.write_text(diff.read_text() + "changed,after,the,diff,was,written,,\n")
    with pytest.raises(signoff.SignOffError, match="missing or changed since"):
        signoff.sign_off(work, RUN, "Dr Admin", dbt_dir=project)
    (work / "reports" / signoff.DIFF_RECORD).unlink()
    with pytest.raises(signoff.SignOffError, match="no sample diff"):
        signoff.sign_off(work, RUN, "Dr Admin", dbt_dir=project)


def test_mismatches_are_signed_off_only_when_accepted(work, project):
    write_diff(work, project, mismatches=2)
    with pytest.raises(signoff.SignOffError, match=r"2 mismatch\(es\).*--accept-mismatches"):
        signoff.sign_off(work, RUN, "Dr Admin", dbt_dir=project)
    record = signoff.sign_off(work, RUN, "Dr Admin", dbt_dir=project, accept_mismatches=True)
    assert record.signed_off and record.mismatches == 2


def test_a_refused_sample_stops_the_cutover_naming_who_and_why(work, project):
    write_diff(work, project, mismatches=1)
    signoff.sign_off(work, RUN, "Dr Admin", dbt_dir=project, refuse="phone numbers lose their extension")
    with pytest.raises(signoff.SampleNotSignedOff, match=r"Dr Admin refused sample run .*phone numbers lose"):
        signoff.require_signoff(work, project)


def test_migrate_signs_off_on_the_record_but_never_over_a_person(work, project):
    write_diff(work, project)
    signoff.sign_off(work, RUN, "Dr Admin", dbt_dir=project, refuse="wrong clinic on 3 contacts")
    ok, lines = signoff.sign_off_on_record(work, RUN, "demo", dbt_dir=project)
    assert not ok and "refused by Dr Admin" in lines[0]
    assert signoff.read_signoff(work, RUN).by == "Dr Admin"
    with pytest.raises(signoff.SignOffError, match="already refused by Dr Admin"):
        signoff.sign_off(work, RUN, "demo", dbt_dir=project)

    (work / "signoffs" / f"{KEY}.json").unlink()
    ok, lines = signoff.sign_off_on_record(work, RUN, "demo", dbt_dir=project)
    assert ok and "signed off on the record by 'demo'" in lines[0]
    assert signoff.require_signoff(work, project).by == "demo"


def test_migrate_leaves_a_diff_with_mismatches_to_a_person(work, project):
    write_diff(work, project, mismatches=1)
    ok, lines = signoff.sign_off_on_record(work, RUN, "demo", dbt_dir=project)
    assert not ok and "1 mismatch(es)" in lines[0] and f"clinic2zoho sign-off --run {KEY}" in lines[0]
    assert not (work / "signoffs").exists()


def test_the_sign_off_command(work, project, capsys):
    write_diff(work, project)
    assert main(["sign-off", "--run", RUN, "--by", "Dr Admin", "--work", str(work)]) == 0
    out = capsys.readouterr().out
    assert f"sample run {KEY} signed off by Dr Admin" in out and "reports/sample_diff.csv" in out
    assert main(["sign-off", "--run", RUN, "--by", "Someone Else", "--work", str(work)]) == 2
    assert "that decision stands" in capsys.readouterr().err
