"""One journal root, two orgs: the sample run loads the sandbox, the cutover production, and both
orgs number their records alike. Each run journals its org; a load reads only its own org's
runs (lookups, keys failed or pending), and a resume or rollback refuses another org."""

from __future__ import annotations

import pytest

from clinic2zoho.cli import main
from clinic2zoho.loader import run_org
from clinic2zoho.loader.journal import JournalReader, JournalSegment
from clinic2zoho.loader.rollback import Rollback
from clinic2zoho.loader.run_org import OrgMismatch

from tests.loader.conftest import load, prepared_org


@pytest.fixture
def sandbox(tmp_path):
    with prepared_org(tmp_path / "sandbox", {"org_type": "sandbox"}) as o:
        yield o


def _outcomes(clinic, run_id: str) -> dict[tuple[str, str], tuple[str, str | None]]:
    with JournalReader(clinic.journal, runs=[run_id]) as q:
        return {(m, k): (s, c) for m, k, s, c in q.sql("SELECT module, source_key, status, error_code FROM load_journal")}


@pytest.mark.parametrize("sample_org", ["recorded", "unknown"])
def test_a_dependent_is_never_linked_through_another_orgs_run(org, sandbox, clinic, sample_org):
    load(sandbox, clinic, run_id="sample")
    assert run_org.recorded(clinic.journal, "sample")["org_id"] == sandbox.server.zgid
    if sample_org == "unknown":  # a journal from before runs recorded their org
        (clinic.journal / "sample" / run_org.ORG_FILE).unlink()
    clinic.sql("UPDATE zoho.zoho_contacts SET Last_Name = NULL WHERE Clinic_Patient_Id = 'p2'")  # refused in production
    load(org, clinic, run_id="cutover")

    recorded = run_org.recorded(clinic.journal, "cutover")
    assert (recorded["org_id"], recorded["type"]) == (org.server.zgid, "Production")  # GET /org type, org.json spelling
    assert org.server.zgid != sandbox.server.zgid
    patient_of = {r["id"]: r["Clinic_Patient_Id"] for r in org.records("Contacts", ["Clinic_Patient_Id"])}
    assert "p2" not in patient_of.values()
    events = org.records("Events", ["Clinic_Appointment_Id", "Who_Id"])
    for e in events:  # read back: every link names its own patient, in this org
        assert patient_of[e["Who_Id"]["id"]] == f"p{int(e['Clinic_Appointment_Id'][1:]) % 30 + 1}"
    for i in org.records("Insurance", ["Clinic_Insurance_Id", "Contact"]):
        assert patient_of[i["Contact"]["id"]] == "p" + i["Clinic_Insurance_Id"][3:]
    assert "a1" not in {e["Clinic_Appointment_Id"] for e in events}  # a1 is p2's appointment
    outcomes = _outcomes(clinic, "cutover")
    assert outcomes[("Events", "a1")] == ("rejected", "LOOKUP_UNRESOLVED")
    assert outcomes[("Insurance", "ins2")] == ("rejected", "LOOKUP_UNRESOLVED")
    assert {outcomes[("Notes", k)] for k in ("n1", "n6", "n11")} == {("rejected", "PARENT_UNRESOLVED")}


def test_a_key_pending_in_another_orgs_run_keeps_no_row_waiting(org, sandbox, clinic):
    load(sandbox, clinic, run_id="sample")
    with JournalSegment(clinic.journal, "sample", "Contacts") as seg:  # the sample run left p2 in flight
        seg.intent([{"source_key": "p2", "operation": "insert"}], "record", "planted")
    clinic.sql("DELETE FROM zoho.zoho_contacts WHERE Clinic_Patient_Id = 'p2'")  # not in production's export
    result = load(org, clinic, run_id="cutover")
    assert result.pending == 0  # nothing waits for a record only the sandbox run could load
    assert _outcomes(clinic, "cutover")[("Events", "a1")] == ("rejected", "LOOKUP_UNRESOLVED")


def test_resume_and_rollback_refuse_an_org_the_run_was_not_loaded_into(org, sandbox, clinic, monkeypatch, capsys):
    load(sandbox, clinic, run_id="sample")
    production, sandboxed = org.data_hash(), sandbox.data_hash()
    with org.client() as client:
        with pytest.raises(OrgMismatch, match=f"loaded into org {sandbox.server.zgid} \\(Sandbox.*reaches org "
                                              f"{org.server.zgid} \\(Production"):
            Rollback(client, "sample", clinic.journal).run()
    for var, value in (("ZOHO_CLIENT_ID", org.server.client_id), ("ZOHO_CLIENT_SECRET", org.server.client_secret),
                       ("ZOHO_REFRESH_TOKEN", org.server.refresh_token), ("ZOHO_API_URL", org.server.base_url)):
        monkeypatch.setenv(var, value)
    capsys.readouterr()
    assert main(["rollback", "--run", "sample", "--journal", str(clinic.journal), "--warehouse",
                 str(clinic.warehouse), "--no-publish"]) == 2  # as a user runs it: the message, no traceback
    assert f"refusing to roll back run sample: it was loaded into org {sandbox.server.zgid}" in capsys.readouterr().err
    with pytest.raises(OrgMismatch, match=f"run sample was loaded into org {sandbox.server.zgid}"):
        load(org, clinic, run_id="sample")
    assert (org.data_hash(), sandbox.data_hash()) == (production, sandboxed)
    (clinic.journal / "sample" / run_org.ORG_FILE).unlink()  # of unknown org: never resumed
    with pytest.raises(OrgMismatch, match="org it loaded into is unknown"):
        load(sandbox, clinic, run_id="sample")
    assert sandbox.data_hash() == sandboxed

