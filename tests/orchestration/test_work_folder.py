"""`clinic2zoho migrate` keeps one clinic's migration per work folder: a second export aimed at
the same folder is refused, naming both and the way out, before anything is landed."""

from __future__ import annotations

import json

import pytest

from clinic2zoho.migrate import Inputs, MigrateError, claim_work_folder


def inputs(tmp_path, source: str, fmt: str, generated: bool = False) -> Inputs:
    return Inputs(tmp_path / source, fmt, tmp_path / "users.json", None, None, generated=generated)


def test_the_first_run_records_its_export_and_the_same_export_runs_again(tmp_path):
    home = tmp_path / "work"
    home.mkdir()
    claim_work_folder(home, inputs(tmp_path, "gen", "generic", generated=True))
    assert json.loads((home / "migration.json").read_text()) == {"source": "generated", "format": "generic"}
    claim_work_folder(home, inputs(tmp_path, "elsewhere", "generic", generated=True))  # regenerated: same


def test_another_export_in_the_same_work_folder_is_refused(tmp_path):
    home = tmp_path / "work"
    home.mkdir()
    claim_work_folder(home, inputs(tmp_path, "gen", "generic", generated=True))
    with pytest.raises(MigrateError, match=r"holds the migration of generated \(generic\);.*synthea_csv.*"
                                           r"--work DIR.*make clean"):
        claim_work_folder(home, inputs(tmp_path, "synthea_csv", "synthea"))
    assert json.loads((home / "migration.json").read_text())["source"] == "generated"
