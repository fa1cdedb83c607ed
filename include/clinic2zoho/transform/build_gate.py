"""The gate of a `dbt build` that ran its tests as warnings (var `tests_warn_only`, the DAGs' one
build): dbt skips every model downstream of a test that fails with severity error, so a build
that runs its tests among its models lets them only warn, and the gate is decided here, from
the build's own run_results.json and manifest.json, as a separate `dbt test` would decide it.

- A test stops the gate when it failed or errored, or warned while it is not a warning by its own
  config: only a test whose own config says severity 'warn' (dbt keeps it in the node's
  `unrendered_config`) is a warning; every other one stops the load when it finds rows.
- A gate test that passed with failing rows is a warning: the shape checks below their threshold
  (tests/generic/zoho_shape.sql) pass there, and dbt reports no rows for a pass, so the rows a
  passing test stored (store_failures) are counted in the warehouse."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

WARN_ONLY_VAR = "tests_warn_only"


@dataclass(frozen=True)
class DbtTestOutcome:
    name: str
    status: str  # dbt's: pass, warn, fail, error, skipped
    failures: int
    path: str  # the test's file in the project
    own_severity: str  # 'warn' when the test's own config says so, else 'error'
    message: str = ""

    @property
    def stops(self) -> bool:
        return self.status in ("fail", "error", "skipped") or (self.status == "warn" and self.own_severity != "warn")

    @property
    def warns(self) -> bool:
        return not self.stops and (self.status == "warn" or self.failures > 0)

    def line(self) -> str:
        rows = f"{self.failures} row(s)" if self.failures else self.status
        return f"{self.name} ({self.path}): {rows}" + (f" - {self.message}" if self.status == "error" else "")


def own_severity(node: dict[str, Any]) -> str:
    """'warn' when the test's own config sets it (a literal in unrendered_config; the project-wide
    setting is a template there), else 'error'."""
    severity = (node.get("unrendered_config") or {}).get("severity")
    return "warn" if isinstance(severity, str) and severity.strip().lower() == "warn" else "error"


def read_test_outcomes(target: Path, warehouse: Path | None = None) -> list[DbtTestOutcome]:
    """Every test of the build in `target` (dbt's target folder), in the order dbt ran them; with
    the `warehouse`, a passing test's stored failing rows are counted."""
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8")).get("results", [])
    nodes = json.loads((target / "manifest.json").read_text(encoding="utf-8")).get("nodes", {})
    tests = [(r, nodes.get(r["unique_id"], {})) for r in results if r.get("unique_id", "").startswith("test.")]
    stored = {r["unique_id"]: node["relation_name"] for r, node in tests
              if r.get("status") == "pass" and node.get("relation_name") and can_pass_with_rows(node)}
    counts = stored_rows(warehouse, stored) if warehouse is not None and stored else {}
    return [DbtTestOutcome(
        name=node.get("name") or r["unique_id"].split(".")[-1], status=str(r.get("status", "")),
        failures=counts.get(r["unique_id"], int(r.get("failures") or 0)), path=node.get("original_file_path", ""),
        own_severity=own_severity(node), message=(r.get("message") or "")[:500]) for r, node in tests]


def can_pass_with_rows(node: dict[str, Any]) -> bool:
    """Whether a test that passed may have stored failing rows: one that stores them and whose
    warning condition is not dbt's default. Under the default (fail_calc count(*), warn_if '!= 0')
    any row makes the test at least warn, so a pass stored none and needs no count."""
    config = node.get("config") or {}
    default = (str(config.get("fail_calc", "count(*)")).replace(" ", "") == "count(*)"
               and str(config.get("warn_if", "!= 0")).replace(" ", "") == "!=0")
    return bool(config.get("store_failures")) and not default


def stored_rows(warehouse: Path, relations: dict[str, str]) -> dict[str, int]:
    """Rows in each test's store_failures table (dbt's relation name, quoted): one read-only query
    over them all (the build's task waits for it; one query per table cost it half a second)."""
    import duckdb

    ids = list(relations)
    counts = " UNION ALL ".join(f"SELECT {i} AS test, count(*) AS n FROM {relations[uid]}" for i, uid in enumerate(ids))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {ids[i]: n for i, n in con.execute(counts).fetchall()}


def summary(outcomes: list[DbtTestOutcome]) -> dict[str, Any]:
    """What the gate task needs (an XCom): the counts, and the tests that stop or warn."""
    return {"tests": len(outcomes),
            "stops": [asdict(o) for o in outcomes if o.stops],
            "warnings": [asdict(o) for o in outcomes if o.warns]}


def gate_message(found: dict[str, Any]) -> str | None:
    """None when the gate passes, else every test that stops it, one per line."""
    stops = [DbtTestOutcome(**item) for item in found.get("stops", [])]
    if not stops:
        return None
    # the first line names them all: a run's failure is often shown by its first line alone
    names = ", ".join(o.name for o in stops)
    lines = "\n".join(f"  - {o.line()}" for o in stops)
    return (f"{len(stops)} of {found.get('tests', 0)} dbt tests failed the gate: {names}. Nothing is loaded "
            f"into Zoho until each passes; their failing rows are in the warehouse's gate schema.\n{lines}")
