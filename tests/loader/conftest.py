"""A small clinic in Zoho-shaped DuckDB tables, a local Zoho server with the schema the tables need,
and helpers to load, crash and count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from clinic2zoho.loader.journal import AuditLog
from clinic2zoho.loader.module_loader import LoadSettings
from clinic2zoho.loader.plan import LoadPlan, ModuleSpec
from clinic2zoho.loader.run import Loader
from clinic2zoho.loader.source import TableSource
from clinic2zoho.zoho import ZohoClient, ZohoConfig
from clinic2zoho.zoho_server.process import ZohoServerProcess

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS = [{"email": "dr.adams@clinic.example", "full_name": "Dr Adams"},
             {"email": "dr.baker@clinic.example", "full_name": "Dr Baker"}]

PLAN = LoadPlan((
    ModuleSpec("zoho.zoho_accounts", "Accounts", "Clinic_Account_Id"),
    ModuleSpec("zoho.zoho_contacts", "Contacts", "Clinic_Patient_Id", {"Account_Name": "Accounts"}),
    ModuleSpec("zoho.zoho_events", "Events", "Clinic_Appointment_Id", {"Who_Id": "Contacts"}, owner_column="Owner"),
    ModuleSpec("zoho.zoho_insurance", "Insurance", "Clinic_Insurance_Id", {"Contact": "Contacts"}),
    ModuleSpec("zoho.zoho_notes", "Notes", "Clinic_Note_Id", parent_column="Parent_Id", parent_module="Contacts"),
    ModuleSpec("zoho.zoho_attachments", "Attachments", "Clinic_Document_Id", parent_column="Parent_Id",
               parent_module="Contacts"),
))
RECORD_MODULES = ("Accounts", "Contacts", "Events", "Insurance")


def _ext_field(label: str) -> dict:
    return {"field_label": label, "data_type": "text", "length": 64, "external": {"type": "org"}}


def prepare_schema(client: ZohoClient) -> None:
    """What schema preparation would create for these tables."""
    client.create_field("Accounts", _ext_field("Clinic Account Id"))
    client.create_field("Contacts", _ext_field("Clinic Patient Id"))
    client.create_field("Events", _ext_field("Clinic Appointment Id"))
    client.create_module("Insurance", "Insurance")
    client.create_field("Insurance", _ext_field("Clinic Insurance Id"))
    client.create_field("Insurance", {"field_label": "Contact", "data_type": "lookup",
                                      "lookup": {"module": {"api_name": "Contacts"}}})
    client.create_field("Insurance", {"field_label": "Carrier", "data_type": "text", "length": 100})


@dataclass
class Org:
    server: ZohoServerProcess

    def config(self, **overrides) -> ZohoConfig:
        base = dict(data_centre=None, accounts_url=self.server.base_url, api_url=self.server.base_url,
                    upload_url=self.server.base_url, backoff_initial=0.02, backoff_max=0.2, max_attempts=10,
                    poll_initial=0.1, poll_max=0.3)
        base.update(overrides)
        return ZohoConfig(self.server.client_id, self.server.client_secret, self.server.refresh_token, **base)

    def client(self, on_call=None, **overrides) -> ZohoClient:
        return ZohoClient(self.config(**overrides), on_call=on_call)

    def records(self, module: str, fields: list[str]) -> list[dict]:
        with self.client() as c:
            return list(c.iter_records(module, fields))

    def data_hash(self) -> str:
        return self.server.snapshot()["data_hash"]


@contextmanager
def prepared_org(workdir: Path, settings: dict | None = None) -> Iterator[Org]:
    """A local Zoho server started in `workdir` (created), with the schema the clinic's tables need."""
    workdir.mkdir()
    with ZohoServerProcess(users=PROVIDERS, workdir=workdir, settings=settings) as server:
        org = Org(server)
        with org.client() as c:
            prepare_schema(c)
        yield org


@pytest.fixture
def org(tmp_path):
    with prepared_org(tmp_path / "zoho") as o:
        yield o


@dataclass
class Clinic:
    warehouse: Path
    journal: Path
    files: Path
    plan: LoadPlan = PLAN

    def counts(self) -> dict[str, int]:
        src = TableSource(self.warehouse)
        return {s.module: src.count(s) for s in self.plan.specs}

    def sql(self, query: str) -> None:
        con = duckdb.connect(str(self.warehouse))
        try:
            con.execute(query)
        finally:
            con.close()


def build_clinic(warehouse: Path, files: Path, patients: int = 30, appointments: int = 20, notes: int = 12,
                 documents: int = 6) -> None:
    files.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE SCHEMA IF NOT EXISTS zoho")
    con.execute("""CREATE OR REPLACE TABLE zoho.zoho_accounts AS SELECT * FROM (VALUES
        ('c1', 'Riverside Clinic'), ('c2', 'Hilltop Clinic')) t(Clinic_Account_Id, Account_Name)""")
    con.execute(f"""CREATE OR REPLACE TABLE zoho.zoho_contacts AS
        SELECT 'p' || i AS Clinic_Patient_Id, 'Patient' || i AS Last_Name, 'Test' AS First_Name,
               CASE WHEN i % 2 = 0 THEN 'c1' ELSE 'c2' END AS Account_Name
        FROM range(1, {patients} + 1) r(i)""")
    con.execute(f"""CREATE OR REPLACE TABLE zoho.zoho_events AS
        SELECT 'a' || i AS Clinic_Appointment_Id, 'Visit ' || i AS Event_Title,
               CASE WHEN i = 3 THEN '2024-03-0' || (i % 9 + 1) || 'T09:00:00'
                    ELSE '2024-03-0' || (i % 9 + 1) || 'T09:00:00-05:00' END AS Start_DateTime,
               '2024-03-0' || (i % 9 + 1) || 'T09:30:00-05:00' AS End_DateTime,
               'p' || (i % {patients} + 1) AS Who_Id,
               CASE WHEN i = 5 THEN 'dr.gone@clinic.example' WHEN i = 7 THEN NULL
                    WHEN i % 2 = 0 THEN 'dr.adams@clinic.example' ELSE 'DR.BAKER@clinic.example' END AS Owner
        FROM range(1, {appointments} + 1) r(i)""")
    con.execute(f"""CREATE OR REPLACE TABLE zoho.zoho_insurance AS
        SELECT 'ins' || i AS Clinic_Insurance_Id, 'Plan ' || i AS Name, 'Carrier ' || (i % 3) AS Carrier,
               CASE WHEN i = 4 THEN 'p999' ELSE 'p' || i END AS Contact
        FROM range(1, {patients} // 2 + 1) r(i)""")
    con.execute(f"""CREATE OR REPLACE TABLE zoho.zoho_notes AS
        SELECT 'n' || i AS Clinic_Note_Id, '2024-03-05 Progress note [n:' || i || '] (1/1)' AS Note_Title,
               'Seen for follow-up, note ' || i AS Note_Content, 'p' || (i % 5 + 1) AS Parent_Id
        FROM range(1, {notes} + 1) r(i)""")
    rows = []
    for i in range(1, documents + 1):
        name = f"doc-d{i}.txt"
        (files / name).write_bytes(b"x" * (5000 if i == documents else 100 + i))
        rows.append(f"('d{i}', '{name}', '{name}', 'p{i % 4 + 1}')")
    con.execute("CREATE OR REPLACE TABLE zoho.zoho_attachments AS SELECT * FROM (VALUES " + ", ".join(rows) +
                ") t(Clinic_Document_Id, File_Name, File_Path, Parent_Id)")
    con.close()


@pytest.fixture
def clinic(work_home) -> Clinic:
    c = Clinic(work_home / "warehouse.duckdb", work_home / "journal", work_home / "files")
    build_clinic(c.warehouse, c.files)
    return c


def settings_for(clinic: Clinic, **kw) -> LoadSettings:
    base = dict(record_concurrency=2, files_root=clinic.files, attachment_max_bytes=2000, poll_initial=0.1,
                poll_max=0.3)
    base.update(kw)
    return LoadSettings(**base)


def load(org: Org, clinic: Clinic, run_id: str = "run1", modules=None, client_overrides=None, **kw):
    audit = AuditLog(clinic.journal, run_id)
    client = org.client(on_call=audit, **(client_overrides or {}))
    try:
        return Loader(clinic.plan, client, run_id=run_id, root=clinic.journal, source=TableSource(clinic.warehouse),
                      settings=settings_for(clinic, **kw)).run(modules)
    finally:
        client.close()
        audit.close()


def load_in_subprocess(org: Org, clinic: Clinic, run_id: str, crash_at: str | None = None, force_path: str | None = None,
                       timeout: float = 120) -> int:
    """The loader in its own process (CLINIC2ZOHO_CRASH_AT makes it die mid-load); returns its exit code."""
    env = {**os.environ, "CLINIC2ZOHO_CRASH_AT": crash_at or "", "PYTHONPATH": str(ROOT)}
    args = json.dumps({"base": org.server.base_url, "cid": org.server.client_id, "warehouse": str(clinic.warehouse),
                       "journal": str(clinic.journal), "files": str(clinic.files), "run_id": run_id,
                       "force_path": force_path, "plan": clinic.plan.to_json()})
    env["LOADER_TEST_SECRET"] = org.server.client_secret
    env["LOADER_TEST_REFRESH"] = org.server.refresh_token
    proc = subprocess.run([sys.executable, "-m", "tests.loader.load_child", args], env=env, cwd=ROOT,
                          capture_output=True, timeout=timeout)
    if proc.returncode not in (0, 137):
        raise AssertionError(f"loader child failed ({proc.returncode}): {proc.stderr.decode()[-3000:]}")
    return proc.returncode


def assert_no_duplicates_and_all_accounted(org: Org, clinic: Clinic, run_id: str = "run1") -> dict[str, int]:
    """Every source row is done, rejected or skipped in the journal; Zoho holds one record per
    external id (notes: per title, attachments: per file name) and exactly the rows journaled done."""
    from clinic2zoho.loader.journal import JournalReader

    with JournalReader(clinic.journal, runs=[run_id]) as reader:
        status = {(m, k): s for m, k, s in reader.sql("SELECT module, source_key, status FROM load_journal")}
    counts = clinic.counts()
    done: dict[str, int] = Counter()
    for (module, _), s in status.items():
        assert s in ("done", "rejected", "skipped"), f"{module} row left {s}"
        if s == "done":
            done[module] += 1
    for module in RECORD_MODULES:
        assert sum(1 for (m, _) in status if m == module) == counts[module], module
        ext = clinic.plan.spec(module).external_id
        keys = [r[ext] for r in org.records(module, [ext])]
        assert len(keys) == len(set(keys)), f"duplicates in {module}"
        assert len(keys) == done[module], module
    with org.client() as c:
        titles = Counter()
        names = Counter()
        for pid in {r["id"] for r in c.iter_records("Contacts", ["Clinic_Patient_Id"])}:
            titles.update(n["Note_Title"] for n in c.notes("Contacts", pid))
            names.update(a["File_Name"] for a in c.attachments("Contacts", pid))
    assert all(v == 1 for v in titles.values()), "duplicate notes"
    assert all(v == 1 for v in names.values()), "duplicate attachments"
    assert sum(titles.values()) == done["Notes"]
    assert sum(names.values()) == done["Attachments"]
    return dict(done)
