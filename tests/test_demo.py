"""The demo path (`clinic2zoho migrate`) on a small generated export at DEBUG log level: both DAGs
succeed, the reports are written, no patient name, birth date, phone or e-mail from the export
appears in any log line (Airflow's, the DAGs', the Zoho servers', the command's output), and no
credential of either local Zoho org appears in any log file or the output; the work folder is
its owner's only and, purged at the end, holds no e-mail, full name or phone outside the local
orgs. Reports are meant to show data and are left out."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from clinic2zoho import cli
from tests.dags.scenario import copy_dbt_project

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]

PATIENTS = 100


def patient_values(export: Path) -> set[str]:
    values: set[str] = set()
    with open(export / "patients.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for column in ("first_name", "last_name", "birth_date", "phone", "email"):
                value = (row.get(column) or "").strip()
                if len(value) >= 4:  # shorter names ("Li") match inside ordinary words
                    values.add(value)
            if row.get("first_name") and row.get("last_name"):
                values.add(f"{row['first_name']} {row['last_name']}")
    return values


def org_credentials(work: Path) -> dict[str, str]:
    """Each local org's credentials, read from the files its server keeps in the work folder."""
    found: dict[str, str] = {}
    for path in sorted((work / "zoho").glob("*/*.credentials.json")):
        creds = json.loads(path.read_text())
        for key in ("client_id", "client_secret", "refresh_token", "admin_token"):
            found[f"{path.parent.name} {key}"] = creds[key]
    return found


def owner_only(work: Path) -> list[str]:
    """What in the work folder its owner's group or others could read or enter."""
    return [str(p.relative_to(work)) for p in [work, *work.rglob("*")] if not p.is_symlink() and p.lstat().st_mode & 0o077]


def purged(work: Path, values: set[str]) -> list[str]:
    """Purge the work folder (its delta window closed first, if open) and list the files outside the
    local orgs that still hold an e-mail, a full name or a phone of the export."""
    from clinic2zoho.delta.window import close_window, current_window

    window = current_window(work / "warehouse.duckdb")
    if window is not None:
        close_window(window.window_id, "the demo test purges the folder", warehouse=work / "warehouse.duckdb")
    assert cli.main(["purge", "--work", str(work), "--yes", "--after-cutover"]) == 0
    specific = [v.encode() for v in values if "@" in v or " " in v and not any(c.isdigit() for c in v)
                or sum(c.isdigit() for c in v) >= 10]
    assert len(specific) > 2 * PATIENTS
    return [str(p.relative_to(work)) for p in work.rglob("*") if p.is_file() and p.relative_to(work).parts[0] != "zoho"
            and any(v in p.read_bytes() for v in specific)]


def test_the_demo_migrates_and_logs_no_patient_data(tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    monkeypatch.setenv("CLINIC2ZOHO_DBT_PROJECT", str(copy_dbt_project(tmp_path / "dbt_project")))
    monkeypatch.delenv("CLINIC2ZOHO_DBT_SELECT", raising=False)
    code = cli.main(["migrate", "--patients", str(PATIENTS), "--work", str(work), "--log-level", "DEBUG"])
    out = capsys.readouterr().out
    assert code == 0, out + "\n".join((work / "logs" / f).read_text()[-3000:] for f in ("clinic_cutover.log",))
    assert "clinic_sample_migration: success" in out and "clinic_cutover: success" in out
    assert "validation: passed" in out
    reports = work / "reports"
    assert json.loads((reports / "reconciliation.json").read_text())["summary"]["status"] == "passed"
    assert (reports / "sample_diff.csv").is_file() and (reports / "workflow_rebuild.html").is_file()

    secrets = patient_values(work / "generated" / "export")
    assert len(secrets) > 4 * PATIENTS  # the check has something to find
    logs = [p for p in work.rglob("*") if p.is_file() and p.suffix in {".log", ".txt", ""}
            and reports not in p.parents and "generated" not in p.parts and p.stat().st_size < 200_000_000]
    assert any(p.name == "clinic_cutover.log" for p in logs)
    debug_lines = 0
    leaks: list[str] = []
    for path in logs + [None]:
        text = out if path is None else path.read_text(encoding="utf-8", errors="replace")
        for line in text.splitlines():
            debug_lines += "debug" in line.lower()
            found = [v for v in secrets if v in line]
            if found:
                leaks.append(f"{path or 'stdout'}: {len(found)} value(s)")
    assert debug_lines > 0  # DEBUG really was on
    assert not leaks, leaks[:10]

    credentials = org_credentials(work)
    assert len(credentials) == 8  # production and sandbox
    every_log = {p for p in (work / "logs").rglob("*") if p.is_file()} | {p for p in work.rglob("*.log") if p.is_file()}
    assert len(every_log) >= 5  # setup, two DAGs, two Zoho servers
    found: list[str] = []
    for path in sorted(every_log) + [None]:
        text = out if path is None else path.read_text(encoding="utf-8", errors="replace")
        found += [f"{name} in {path or 'stdout'}" for name, value in credentials.items() if value in text]
    assert not found, found
    assert owner_only(work) == []  # what Airflow and the local Zoho servers wrote there included

    assert purged(work, secrets) == []
