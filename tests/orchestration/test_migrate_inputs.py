"""migrate's inputs: a users file beside the export folder is never picked up unasked (nothing
outside the export folder is read unless named)."""

from __future__ import annotations

import argparse

import pytest

from clinic2zoho.migrate import MigrateError, configure, resolve_inputs


def test_a_users_file_beside_the_export_is_not_read_unless_named(tmp_path):
    export = tmp_path / "clinic_export"
    export.mkdir()
    (export / "patients.csv").write_text("a\n1\n")
    beside = tmp_path / "zoho_users.json"
    beside.write_text("[]")
    parser = argparse.ArgumentParser()
    configure(parser)
    with pytest.raises(MigrateError, match="no users file.*--users"):
        resolve_inputs(parser.parse_args(["--source", str(export), "--format", "generic"]), tmp_path, print)
    named = resolve_inputs(parser.parse_args(["--source", str(export), "--format", "generic", "--users",
                                              str(beside)]), tmp_path, print)
    assert named.users == beside.resolve() and named.overrides is None
