"""The diff goes back to the source: a zoho model that reads the wrong column is caught.

A copy of the dbt project gets two planted mistakes in zoho_contacts.sql, (a) Mailing_City read
from the state and (b) First_Name and Last_Name swapped; a generated export is built with it,
loaded into a local Zoho server over HTTP, and the sample diff and the validation spot check must
each name the rule the mistake breaks, with the source file, row, column and value. dbt's table and
Zoho agree with each other there: only the comparison with the source sees the mistake."""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
from functools import cached_property
from pathlib import Path
from typing import Iterator

import duckdb
import pytest

from clinic2zoho.generator import generate_export
from clinic2zoho.landing import land_export, land_users
from clinic2zoho.loader.journal import AuditLog, publish
from clinic2zoho.loader.module_loader import LoadSettings
from clinic2zoho.loader.plan import plan_from_manifest
from clinic2zoho.loader.run import Loader
from clinic2zoho.loader.source import TableSource
from clinic2zoho.mapping import confirmation
from clinic2zoho.mapping.propose_command import propose_mapping
from clinic2zoho.mapping.schema_command import prepare_schema
from clinic2zoho.reports import sample_diff, validate_run
from clinic2zoho.reports.compare import MISMATCH
from clinic2zoho.settings import DBT_PROJECT_DIR
from clinic2zoho.transform import run_dbt
from clinic2zoho.zoho import ZohoClient, ZohoConfig
from clinic2zoho.zoho_server.process import ZohoServerProcess

from tests.fixtures.dbt_project import copy_dbt_project

pytestmark = pytest.mark.xdist_group("reports_source_diff")  # one worker builds `planted` once

RUN_ID = "planted-run-1"
CITY_RULE = "copy: patients.city → Contacts.Mailing_City (mapping/generic.yml, zoho_contacts)"
FIRST_RULE = "copy: patients.first_name → Contacts.First_Name (mapping/generic.yml, zoho_contacts)"
LAST_RULE = "copy: patients.last_name → Contacts.Last_Name (mapping/generic.yml, zoho_contacts)"
PLANTS = {  # the right SQL -> the planted mistake
    "    patients.first_name as First_Name,\n    coalesce(patients.last_name, '(no last name)') as Last_Name,":
        "    patients.last_name as First_Name,\n    coalesce(patients.first_name, '(no last name)') as Last_Name,",
    "    patients.city as Mailing_City,": "    patients.state as Mailing_City,",
}


def _planted_project(dest: Path) -> Path:
    copy_dbt_project(dest, profiles=True)
    shutil.copytree(DBT_PROJECT_DIR / "mapping", dest / "mapping")
    model = dest / "models" / "zoho" / "zoho_contacts.sql"
    sql = model.read_text()
    for right, wrong in PLANTS.items():
        assert right in sql, f"zoho_contacts.sql no longer holds {right!r}: update the planted mistake"
        sql = sql.replace(right, wrong)
    model.write_text(sql)
    return dest


class Planted:
    def __init__(self, base: Path, server: ZohoServerProcess, dbt_dir: Path, warehouse: Path, manifest: Path):
        self.base, self.server, self.dbt_dir, self.warehouse, self.manifest = base, server, dbt_dir, warehouse, manifest
        self.journal = base / "work" / "journal"

    def client(self) -> ZohoClient:
        s = self.server
        return ZohoClient(ZohoConfig(s.client_id, s.client_secret, s.refresh_token, data_centre=None,
                                     accounts_url=s.base_url, api_url=s.base_url, upload_url=s.base_url,
                                     max_attempts=3))

    def raw_patient(self, patient_id: str) -> dict:
        """The patient's last landed row."""
        return self._raw_patients[patient_id]

    @cached_property
    def _raw_patients(self) -> dict[str, dict]:
        """Every patient's last landed row, read once (the tests ask for one per mismatch)."""
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            cur = con.execute("SELECT * FROM raw.generic__patients"
                              " QUALIFY row_number() OVER (PARTITION BY patient_id ORDER BY _loaded_at DESC) = 1")
            names = [d[0] for d in cur.description]
            return {row["patient_id"]: row for row in (dict(zip(names, r)) for r in cur.fetchall())}


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Iterator[Planted]:
    base = tmp_path_factory.mktemp("planted")
    home = base / "work"
    home.mkdir()
    dbt_dir = _planted_project(base / "dbt_project")
    mp = pytest.MonkeyPatch()
    mp.setenv("CLINIC2ZOHO_HOME", str(home))
    mp.setenv("CLINIC2ZOHO_DBT_PROJECT", str(dbt_dir))  # validation reads the rules from the planted copy
    mp.delenv("CLINIC2ZOHO_WAREHOUSE", raising=False)
    mp.delenv("CLINIC2ZOHO_REPORTS", raising=False)
    warehouse = home / "warehouse.duckdb"
    generate_export(base / "gen", 60, seed=3, with_files=False)
    land_export(base / "gen" / "export", "generic", warehouse)
    land_users(base / "gen" / "zoho_users.json", warehouse=warehouse)
    dbt_vars = {"provider_email_overrides_file": base / "gen" / "provider_email_overrides.csv",
                "clinic_timezone": "America/New_York"}
    # the models the loaded modules read; no dbt test: the planted mistake passes them anyway
    for step in (["seed"], ["run", "--select", "+zoho_contacts", "+zoho_accounts"]):
        built = run_dbt(step, warehouse, dbt_vars, project_dir=dbt_dir)
        assert built.success, built.summary()
    (base / "zoho").mkdir()
    server = ZohoServerProcess(users=base / "gen" / "zoho_users.json", workdir=base / "zoho").start()
    try:
        p = Planted(base, server, dbt_dir, warehouse, built.target_path / "manifest.json")
        with p.client() as client:
            propose_mapping("generic", warehouse, dbt_dir, client)
            confirmation.confirm("planted tests", dbt_dir)
            prepare_schema(client, dbt_dir, warehouse=warehouse, log=lambda _line: None)
        plan = plan_from_manifest(p.manifest).select(["Accounts", "Contacts"])
        audit = AuditLog(p.journal, RUN_ID)
        with p.client() as client:
            result = Loader(plan, client, run_id=RUN_ID, root=p.journal, source=TableSource(warehouse),
                            settings=LoadSettings(files_root=base / "gen" / "export", record_concurrency=2)).run()
        audit.close()
        assert result.pending == 0
        publish(p.journal, warehouse, RUN_ID)
        yield p
    finally:
        server.close()
        mp.undo()


def test_the_sample_diff_names_the_rule_a_model_reading_the_wrong_column_breaks(planted, tmp_path):
    p = planted
    with p.client() as client:
        diff = sample_diff(RUN_ID, client, warehouse=p.warehouse, journal_root=p.journal, manifest=p.manifest,
                           reports_dir=tmp_path, dbt_dir=p.dbt_dir)
    loaded = diff.records["Contacts"]
    assert loaded > 10 and not diff.ok
    by_rule: dict[str, list] = {}
    for c in diff.mismatches:
        by_rule.setdefault(c.rule, []).append(c)
    # (a) Mailing_City read from the state: every Contact whose city is not its state
    assert {c.field for c in by_rule[CITY_RULE]} == {"Mailing_City"}
    for c in by_rule[CITY_RULE]:
        raw = p.raw_patient(c.key)
        assert (c.source_file, c.source_row, c.source_column, c.source_value) == \
            ("patients.csv", raw["_source_row"], "city", raw["city"])
        assert c.expected == raw["city"].strip() and c.actual == raw["state"]
        assert c.dbt_value == c.actual  # dbt's table and Zoho agree: only the source shows the mistake
    # (b) First_Name and Last_Name swapped
    for rule, column, other in ((FIRST_RULE, "first_name", "last_name"), (LAST_RULE, "last_name", "first_name")):
        assert len(by_rule[rule]) >= loaded - 1  # a patient whose two names are the same would match
        for c in by_rule[rule]:
            raw = p.raw_patient(c.key)
            assert (c.source_column, c.source_value, c.expected, c.actual) == \
                (column, raw[column], raw[column].strip(), raw[other].strip())
    # nothing else differs: Accounts, and every other Contact field, match their source
    assert set(by_rule) == {CITY_RULE, FIRST_RULE, LAST_RULE}
    assert all(c.status == MISMATCH for c in diff.mismatches)
    # the CSV: mismatches first, grouped by rule, each row with source file, row, column and value
    rows = list(csv.DictReader((tmp_path / "sample_diff.csv").open(encoding="utf-8")))
    bad = [r for r in rows if r["status"] == "mismatch"]
    assert rows[:len(bad)] == bad and len(bad) == len(diff.mismatches)
    runs = [rule for i, rule in enumerate(r["rule"] for r in bad) if i == 0 or bad[i - 1]["rule"] != rule]
    assert sorted(runs) == sorted(set(runs))  # each rule's rows together
    city = next(r for r in bad if r["field"] == "Mailing_City")
    raw = p.raw_patient(city["record"])
    assert (city["source_file"], city["source_row"], city["source_column"], city["source_value"], city["kind"]) == \
        ("patients.csv", str(raw["_source_row"]), "city", raw["city"], "copy")
    page = (tmp_path / "sample_diff.html").read_text(encoding="utf-8")
    assert page.index("Differences by rule") < page.index("Differences, not loaded")
    assert CITY_RULE in page and FIRST_RULE in page


def test_the_spot_check_names_the_rule_and_the_source_row(planted, tmp_path):
    p = planted
    with p.client() as client:
        result = validate_run(RUN_ID, client, warehouse=p.warehouse, journal_root=p.journal, manifest=p.manifest,
                              reports_dir=tmp_path, seed=4)
    assert not result.ok
    for rule in (CITY_RULE, FIRST_RULE, LAST_RULE):
        line = next((x for x in result.problems if rule in x), None)
        assert line is not None and line.startswith("spot check:") and "differ from the source values" in line
    assert all(c.field in ("Mailing_City", "First_Name", "Last_Name") for c in result.mismatches)
    report = json.loads((tmp_path / "reconciliation.json").read_text(encoding="utf-8"))
    checked = report["spot_check"]["checks"]
    contacts = [c for c in checked if c["module"] == "Contacts" and c["field"] == "Mailing_City"]
    assert contacts and all(c["source_file"] == "patients.csv" and c["source_row"] and c["source_column"] == "city"
                            for c in contacts)
    raw = p.raw_patient(contacts[0]["key"])
    assert contacts[0]["source_value"] == raw["city"] and contacts[0]["status"] == "mismatch"
    assert "source value" in (tmp_path / "reconciliation.html").read_text(encoding="utf-8")


def test_reports_with_patient_values_are_owner_only(planted, tmp_path):
    p = planted
    out = tmp_path / "open"
    out.mkdir(mode=0o755)
    (out / "sample_diff.csv").write_text("left readable by an older version")
    os.chmod(out / "sample_diff.csv", 0o644)
    old = os.umask(0o022)
    try:
        with p.client() as client:
            sample_diff(RUN_ID, client, warehouse=p.warehouse, journal_root=p.journal, manifest=p.manifest,
                        reports_dir=out, dbt_dir=p.dbt_dir)
            validate_run(RUN_ID, client, warehouse=p.warehouse, journal_root=p.journal, manifest=p.manifest,
                         reports_dir=out / "new", seed=1)
    finally:
        os.umask(old)
    for name in ("sample_diff.csv", "sample_diff.html", "new/reconciliation.json", "new/reconciliation.html"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE((out / "new").stat().st_mode) == 0o700
