"""A new warehouse's first dbt command starts from the parse another warehouse of the same project
left under the same vars, and dbt's own checks still decide: other vars parse afresh, an edited
model is parsed again and built as edited."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from clinic2zoho.transform import run_dbt
from clinic2zoho.transform import dbt_parse_cache
from clinic2zoho.transform.dbt_parse_cache import PARSE_FILE

PROFILE = """probe:
  target: local
  outputs:
    local:
      type: duckdb
      path: "{{ env_var('CLINIC2ZOHO_WAREHOUSE') }}"
"""


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "models").mkdir(parents=True)
    (folder / "dbt_project.yml").write_text("name: probe\nversion: '1.0'\nconfig-version: 2\nprofile: probe\n"
                                            "vars:\n  label: none\n  labels_file: null\n")
    (folder / "profiles.yml").write_text(PROFILE)
    (folder / "models" / "labelled.sql").write_text(
        "{{ config(materialized='table') }} select '{{ var(\"label\") }}' as label, count(*) as n from read_csv('{{ var(\"labels_file\") }}')")
    return folder


def parsed_afresh(output: str) -> bool:
    return "Unable to do partial parsing" in output


def warehouse_with_labels(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "labels.csv").write_text("label\na\nb\n")
    return folder / "warehouse.duckdb"


def built(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select label, n from labelled").fetchall()


def test_a_new_warehouse_starts_from_the_shared_parse_and_dbt_still_checks_it(project: Path, tmp_path: Path):
    first = warehouse_with_labels(tmp_path / "clinic_a")
    vars_a = {"label": "x", "labels_file": str(first.parent / "labels.csv")}
    result = run_dbt(["run"], warehouse=first, vars=vars_a, project_dir=project)
    assert result.success and parsed_afresh(result.stdout) and built(first) == [("x", 2)]

    # another warehouse of that name (a copy elsewhere) with the same vars: no parse
    second = warehouse_with_labels(tmp_path / "clinic_b")
    result = run_dbt(["run"], warehouse=second, vars=vars_a, project_dir=project)
    assert result.success and not parsed_afresh(result.stdout) and built(second) == [("x", 2)]
    assert (second.parent / "warehouse.dbt_target" / PARSE_FILE).is_file()

    # an edited model: dbt parses that file again and builds it as it now is
    (project / "models" / "labelled.sql").write_text(
        "{{ config(materialized='table') }} select upper('{{ var(\"label\") }}') as label, count(*) as n from read_csv('{{ var(\"labels_file\") }}')")
    third = warehouse_with_labels(tmp_path / "clinic_c")
    result = run_dbt(["run"], warehouse=third, vars=vars_a, project_dir=project)
    assert result.success and built(third) == [("X", 2)]

    # other vars: a parse of their own
    fourth = warehouse_with_labels(tmp_path / "clinic_d")
    result = run_dbt(["run"], warehouse=fourth, vars={**vars_a, "label": "y"}, project_dir=project)
    assert result.success and parsed_afresh(result.stdout) and built(fourth) == [("Y", 2)]


def test_only_the_most_recent_parses_are_kept(tmp_path: Path):
    project, target = tmp_path / "project", tmp_path / "warehouse.dbt_target"
    target.mkdir(parents=True)
    written = []
    for index in range(dbt_parse_cache.KEPT + 3):
        (target / PARSE_FILE).write_bytes(f"parse {index}".encode())
        shared = dbt_parse_cache.shared_parse(project, {}, {"label": str(index)})
        dbt_parse_cache.share(target, shared, None)
        os.utime(shared, (index, index))  # written in this order
        written.append(shared)
    kept = sorted((project / "target" / "shared_parse").iterdir())
    assert kept == sorted(written[-dbt_parse_cache.KEPT:])
    assert written[-1].read_bytes() == f"parse {dbt_parse_cache.KEPT + 2}".encode()
