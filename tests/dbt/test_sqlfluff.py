"""The dbt project's SQL is lint-clean (sqlfluff, dialect duckdb, config in .sqlfluff)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.xdist_group("dbt_lint")


def test_dbt_project_is_lint_clean():
    sqlfluff = Path(sys.executable).with_name("sqlfluff")
    # one process: the suite keeps every core busy, and each spawned linter imports sqlfluff again
    proc = subprocess.run(
        [str(sqlfluff), "lint", "--processes", "1", "--format", "github-annotation-native",
         "dbt_project/models", "dbt_project/tests", "dbt_project/macros"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
