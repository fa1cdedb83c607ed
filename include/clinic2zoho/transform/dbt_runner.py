"""Run dbt on the mapping project in a child process and read its outcome.

A child process (not dbt's in-process runner) because DuckDB takes one writer per file: the dbt
process opens the warehouse, writes, and is gone when we read the results; it is forked from a
server that imported dbt once (dbt_process). Each warehouse gets its own dbt target folder, so
runs on different warehouses can go side by side."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from clinic2zoho import settings
from clinic2zoho.transform import dbt_parse_cache
from clinic2zoho.transform.dbt_process import run_dbt_command

# Usage reporting off in every entry point (see STACK.md).
TELEMETRY_ENV = {
    "DO_NOT_TRACK": "1",
    "SCARF_NO_ANALYTICS": "true",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
}
FAILING_ROWS_SHOWN = 20


def dbt_log_env() -> dict[str, str]:
    """dbt's own log file at info (each node's start, result and error) unless the user set
    DBT_LOG_LEVEL_FILE: at dbt's default, debug, it also writes every statement it sends, which
    costs a small build about a tenth of its time; the SQL each node ran stays in target/run."""
    return {"DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE", "info")}


@dataclass
class GateFailure:
    """One dbt test that failed (severity error) or warned, with the rows it found."""

    name: str
    unique_id: str
    severity: str  # "error" | "warn"
    failures: int
    message: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> str:
        if not self.rows and (not self.unique_id.startswith("test.") or not self.failures):
            # a model that did not build, or a test that could not run: dbt's own message
            return f"[{self.severity.upper()}] {self.name}: {self.message}"
        head = f"[{self.severity.upper()}] {self.name}: {self.failures} failing row(s)"
        lines = [head]
        for row in self.rows:
            lines.append("    " + ", ".join(f"{key}={value}" for key, value in row.items()))
        if self.failures > len(self.rows) and self.rows:
            lines.append(f"    ... and {self.failures - len(self.rows)} more")
        return "\n".join(lines)


@dataclass
class DbtRunResult:
    command: list[str]
    returncode: int
    elapsed_s: float
    stdout: str
    node_status: dict[str, str]  # unique_id -> status (success, error, fail, warn, pass, skipped)
    errors: list[GateFailure]  # failing tests (severity error) and models that did not build
    warnings: list[GateFailure]
    target_path: Path

    @property
    def success(self) -> bool:
        return self.returncode == 0

    def summary(self) -> str:
        ok = "passed" if self.success else "FAILED"
        lines = [f"dbt {' '.join(self.command)} {ok} in {self.elapsed_s:.1f}s ({len(self.node_status)} nodes)"]
        lines += [item.describe() for item in self.errors + self.warnings]
        return "\n".join(lines)

    def failed_tests(self) -> list[str]:
        return [item.name for item in self.errors]


def target_dir(warehouse: str | Path | None = None) -> Path:
    """dbt's target folder for a warehouse (manifest.json, run_results.json, compiled SQL):
    `<warehouse folder>/<warehouse stem>.dbt_target`."""
    warehouse_file = Path(warehouse).resolve() if warehouse else settings.warehouse_path()
    return warehouse_file.parent / f"{warehouse_file.stem}.dbt_target"


def dbt_env(warehouse: Path) -> dict[str, str]:
    """The environment dbt runs in: the warehouse file, the profile, no telemetry."""
    env = dict(os.environ)
    env.update(TELEMETRY_ENV)
    env.update(dbt_log_env())
    env["CLINIC2ZOHO_WAREHOUSE"] = str(warehouse)
    env["DBT_PROFILES_DIR"] = str(settings.DBT_PROJECT_DIR)
    return env


def dbt_env_by_name(warehouse: Path) -> dict[str, str]:
    """dbt_env with the warehouse named by its file name, for dbt run in the warehouse's folder (or
    not opening it): then warehouses of one name share a profile, and a new target folder (a copy of
    a warehouse, a new work folder's manifest) starts from the saved parse of another under the same
    vars (dbt_parse_cache)."""
    return {**dbt_env(warehouse), "CLINIC2ZOHO_WAREHOUSE": warehouse.name}


def export_vars(source: str | Path, fmt: str, warehouse: str | Path | None = None) -> dict[str, Any]:
    """dbt vars that come with an export, from a generic manifest or its source map (whose zone wins,
    as a person confirmed it): the clinic's time zone, and where
    the clinic publishes the export's documents (`document_url_base`: documents over the attachment
    limit are attached in Zoho as a link there). With the `warehouse` the export landed in, a zone
    the manifest does not name is proposed from the patients' addresses (mapping.timezone)."""
    found: dict[str, Any] = {}
    if fmt == "generic":
        manifest = Path(source) / "manifest.json"
        if manifest.is_file():
            content = json.loads(manifest.read_text(encoding="utf-8"))
            if content.get("timezone"):
                found["clinic_timezone"] = content["timezone"]
            if isinstance(content.get("document_url_base"), str) and content["document_url_base"].strip():
                found["document_url_base"] = content["document_url_base"].strip()
        from clinic2zoho.mapping import source_map

        if (map_path := source_map.find_for(source)) is not None:  # the zone its reviewer confirmed
            zone = source_map.read_source_map(map_path).get("timezone")
            if zone:
                found["clinic_timezone"], found["clinic_timezone_from"] = zone, f"source map {map_path.name}"
    if warehouse is not None and "clinic_timezone" not in found:
        from clinic2zoho.mapping.timezone import proposed_timezone

        found["clinic_timezone"] = proposed_timezone(warehouse, fmt).zone
    return found


def run_dbt(
    command_args: Sequence[str],
    warehouse: str | Path | None = None,
    vars: Mapping[str, Any] | None = None,
    *,
    project_dir: str | Path | None = None,
    timeout_s: float | None = None,
) -> DbtRunResult:
    """Run `dbt <command_args>` on the mapping project against `warehouse` (default: the run's
    warehouse from settings). Never raises for a failing build: read `.success` and `.errors`."""
    warehouse_file = Path(warehouse).resolve() if warehouse else settings.warehouse_path()
    project = Path(project_dir or settings.DBT_PROJECT_DIR).resolve()
    target_path = target_dir(warehouse_file)
    cmd = [
        "--no-use-colors",
        *command_args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path / "logs"),
    ]
    env = dbt_env_by_name(warehouse_file)
    given = _absolute_file_vars(vars or {})
    if given:
        cmd += ["--vars", json.dumps(given, sort_keys=True)]
    shared = dbt_parse_cache.shared_parse(project, env, given)
    saved_before = dbt_parse_cache.start_from_shared(target_path, shared)
    (target_path / "run_results.json").unlink(missing_ok=True)  # never read a previous run's outcome
    started = time.perf_counter()
    returncode, output = run_dbt_command(cmd, env, warehouse_file.parent, timeout_s)
    elapsed = time.perf_counter() - started
    dbt_parse_cache.share(target_path, shared, saved_before)
    node_status, errors, warnings = _read_run_results(target_path / "run_results.json", warehouse_file)
    if returncode != 0 and not errors:
        # dbt failed before running any node (bad project, bad vars): keep its own words
        errors.append(GateFailure("dbt", "", "error", 0, _tail(output)))
    return DbtRunResult(
        command=list(command_args),
        returncode=returncode,
        elapsed_s=elapsed,
        stdout=output,
        node_status=node_status,
        errors=errors,
        warnings=warnings,
        target_path=target_path,
    )


def _absolute_file_vars(vars: Mapping[str, Any]) -> dict[str, Any]:
    """File vars (`*_file`) as absolute paths: dbt runs in another folder (the warehouse's; Cosmos
    in a temporary copy of the project), and a view reading a file reads it from wherever it is
    queried."""
    return {
        key: str(Path(value).resolve()) if key.endswith("_file") and value else value
        for key, value in vars.items()
    }


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _read_run_results(
    path: Path, warehouse: Path
) -> tuple[dict[str, str], list[GateFailure], list[GateFailure]]:
    if not path.is_file():
        return {}, [], []
    results = json.loads(path.read_text(encoding="utf-8")).get("results", [])
    node_status = {item["unique_id"]: item["status"] for item in results}
    errors: list[GateFailure] = []
    warnings: list[GateFailure] = []
    for item in results:
        status = item["status"]
        if status not in {"fail", "error", "warn"}:
            continue
        unique_id = item["unique_id"]
        name = unique_id.split(".")[2] if unique_id.count(".") >= 2 else unique_id
        failure = GateFailure(
            name=name,
            unique_id=unique_id,
            severity="warn" if status == "warn" else "error",
            failures=int(item.get("failures") or 0),
            message=(item.get("message") or "").strip(),
            rows=_failing_rows(warehouse, item.get("relation_name")) if status in {"fail", "warn"} else [],
        )
        (warnings if status == "warn" else errors).append(failure)
    return node_status, errors, warnings


def _failing_rows(warehouse: Path, relation_name: str | None) -> list[dict[str, Any]]:
    """The rows a failed test stored (store_failures): ids and values, never whole records."""
    if not relation_name:
        return []
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            cursor = con.execute(f"select * from {relation_name} limit {FAILING_ROWS_SHOWN}")
            columns = [col[0] for col in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    except duckdb.Error:
        return []
