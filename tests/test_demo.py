"""The demo path (`clinic2zoho migrate`) on a small generated export at DEBUG log level: both DAGs
succeed, the reports are written, no patient name, birth date, phone or e-mail from the export
appears in any log line (Airflow's, the DAGs', the Zoho servers', the command's output), and no
credential of either local Zoho org appears in any log file or the output; the work folder is
its owner's only and, purged at the end, holds no e-mail, full name or phone outside the local
orgs. Reports are meant to show data and are left out. Before the purge, the commands it printed
run as printed (no ZOHO_* variable, the servers stopped): `--delta` carries a new patient and an
edited phone into the org while the delta window is open, and undoing the delta run then the
cutover leaves no record the cutover loaded in the production org."""

from __future__ import annotations

import csv
import json
import shlex
import shutil
from pathlib import Path

import duckdb
import pytest

from clinic2zoho import cli
from clinic2zoho.settings import DBT_PROJECT_DIR
from tests.dags.scenario import rewrite_csv
from tests.fixtures.dbt_project import copy_dbt_project

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
            and holds_any(p, specific)]


def holds_any(path: Path, values: list[bytes]) -> bool:
    data = path.read_bytes()  # once per file, not once per value
    return any(v in data for v in values)


def test_the_demo_migrates_and_logs_no_patient_data(tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    dbt = copy_dbt_project(tmp_path / "dbt_project", profiles=True)
    # the shipped mappings too, as `make demo` reads them (their confirmed Leads.Company rule), never
    # a confirmation a local demo left in the repository
    shutil.copytree(DBT_PROJECT_DIR / "mapping", dbt / "mapping", ignore=shutil.ignore_patterns("confirmation.yml"))
    monkeypatch.setenv("CLINIC2ZOHO_DBT_PROJECT", str(dbt))
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
    debug_seen = False
    leaks: list[str] = []
    for path in logs + [None]:
        text = out if path is None else path.read_text(encoding="utf-8", errors="replace")
        debug_seen = debug_seen or "debug" in text.lower()
        in_text = [v for v in secrets if v in text]  # the whole text first; its lines only if it holds any
        for line in text.splitlines() if in_text else ():
            found = [v for v in in_text if v in line]
            if found:
                leaks.append(f"{path or 'stdout'}: {len(found)} value(s)")
    assert debug_seen  # DEBUG really was on
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

    run_as_printed(work, out, capsys, monkeypatch, credentials)
    assert purged(work, secrets) == []


def printed(out: str, prefix: str) -> list[str]:
    """The command after `prefix` on its line of the output, split as a shell would."""
    line = next(line for line in out.splitlines() if line.strip().startswith(prefix))
    return shlex.split(line.strip()[len(prefix):])


def run_as_printed(work: Path, out: str, capsys, monkeypatch, credentials: dict[str, str]) -> None:
    from clinic2zoho.delta import current_window
    from clinic2zoho.loader.rollback import load_run_plan
    from clinic2zoho.zoho import ZohoClient
    from clinic2zoho.zoho_server.work_orgs import local_config, start_local_org

    for var in ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN", "ZOHO_API_URL", "ZOHO_DATA_CENTRE"):
        monkeypatch.delenv(var, raising=False)
    assert "delta window open from" in out and current_window(work / "warehouse.duckdb").is_open
    export = work / "generated" / "export"
    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as con:
        patient_id, appointment_id = con.execute(  # a patient in Zoho with a phone and an appointment
            """SELECT c.Clinic_Patient_Id, min(e.Clinic_Appointment_Id) FROM zoho.zoho_contacts c
               JOIN zoho.zoho_events e ON e.Who_Id = c.Clinic_Patient_Id
               JOIN ops.load_journal j ON j.module = 'Contacts' AND j.source_key = c.Clinic_Patient_Id
                                      AND j.status = 'done'
               WHERE c.Phone IS NOT NULL GROUP BY 1 ORDER BY 1 LIMIT 1""").fetchone()

    def patients(rows):
        template = next(r for r in rows if r["patient_id"] == patient_id)
        for row in rows:
            if row["patient_id"] == patient_id:
                row["phone"] = "+1 617 555 0142"
        return rows + [{**template, "patient_id": "PT9999901", "first_name": "Dana", "last_name": "Newcombe",
                        "birth_date": "1990-02-03", "email": "dana.newcombe@example.org", "phone": "401-555-0199",
                        "address_line": "1 Window Way"}]

    def appointments(rows):
        template = next(r for r in rows if r["appointment_id"] == appointment_id)
        return rows + [{**template, "appointment_id": "AP99999901", "patient_id": "PT9999901"}]

    rewrite_csv(export / "patients.csv", patients)
    rewrite_csv(export / "appointments.csv", appointments)

    carry = printed(out, "carry changes now with: ")
    assert carry[:2] == ["clinic2zoho", "migrate"] and cli.main(carry[1:]) == 0
    delta_out = capsys.readouterr().out
    assert "clinic_delta: success" in delta_out
    assert "Contacts: 1 new, 1 changed" in delta_out and "Events: 1 new" in delta_out, delta_out
    with start_local_org(work, "production") as server, ZohoClient(local_config(server)) as client:
        assert client.get_by_external("Contacts", "Clinic_Patient_Id", patient_id)["Phone"] == \
            "+1 617 555 0142"
        ids = [r["Clinic_Patient_Id"] for r in client.iter_records("Contacts", ["Clinic_Patient_Id"])]
    assert ids.count("PT9999901") == 1 and len(ids) == len(set(ids))

    for command in (printed(delta_out, "undo this delta run with: "), printed(out, "undo the cutover with: ")):
        assert command[:2] == ["clinic2zoho", "rollback"] and cli.main(command[1:]) == 0
    rollback_out = capsys.readouterr().out
    with start_local_org(work, "production") as server:
        data = server.snapshot()["data"]
    left = {module: len(records) for module, records in data.items() if records}
    loaded = set(load_run_plan(work / "journal", printed(out, "undo the cutover with: ")[3]).modules())
    assert loaded and not set(left) & (loaded | {"__attachments__"}), left  # (schema's design records stay)
    assert current_window(work / "warehouse.duckdb") is None  # the rollback closed it
    logs = [(work / "logs" / "clinic_delta.log").read_text(encoding="utf-8", errors="replace"), delta_out,
            rollback_out]
    assert not [name for name, value in credentials.items() if any(value in text for text in logs)]
