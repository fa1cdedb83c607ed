"""Refusals that trying again will not fix stop the load with a message saying what to do, no
traceback: credentials Zoho refused (which setting to fix, never its value), a sustained 429 storm
(the run resumes with the same run id). Rows are never rejected for them: they stay pending."""

from __future__ import annotations

import functools

import pytest

from clinic2zoho.cli import main
from clinic2zoho.loader import load_command
from clinic2zoho.loader.journal import JournalReader
from clinic2zoho.loader.run import LoadStopped
from clinic2zoho.zoho import environment

from tests.loader.conftest import assert_no_duplicates_and_all_accounted, load


@pytest.fixture
def cli(org, clinic, tmp_path, monkeypatch, capsys):
    """`clinic2zoho load` as a user runs it, on the test's clinic and org; returns (exit code, output)."""
    for var, value in (("ZOHO_CLIENT_ID", org.server.client_id), ("ZOHO_CLIENT_SECRET", org.server.client_secret),
                       ("ZOHO_REFRESH_TOKEN", org.server.refresh_token), ("ZOHO_API_URL", org.server.base_url)):
        monkeypatch.setenv(var, value)
    monkeypatch.setattr(load_command, "mapping_gate", lambda: None)  # the gate has tests of its own
    # Every retry is made; only the waits between them are short (the commands build their
    # ZohoConfig in zoho.environment).
    monkeypatch.setattr(environment, "ZohoConfig",
                        functools.partial(environment.ZohoConfig, backoff_initial=0.01, backoff_max=0.02))
    plan = tmp_path / "plan.json"
    plan.write_text(clinic.plan.to_json())

    def run() -> tuple[int, str]:
        capsys.readouterr()
        code = main(["load", "--plan", str(plan), "--warehouse", str(clinic.warehouse), "--journal",
                     str(clinic.journal), "--files-root", str(clinic.files), "--run", "r1", "--no-publish"])
        out = capsys.readouterr()
        return code, out.out + out.err

    return run


def _secrets(org) -> list[str]:
    return [org.server.client_secret, org.server.refresh_token]


@pytest.mark.parametrize("variable, code, named, not_named", [
    ("ZOHO_CLIENT_SECRET", "invalid_client", "ZOHO_CLIENT_ID and ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN"),
    ("ZOHO_REFRESH_TOKEN", "invalid_code", "ZOHO_REFRESH_TOKEN", "ZOHO_CLIENT_SECRET"),
])
def test_refused_credentials_stop_the_load_naming_the_setting_to_fix(cli, org, monkeypatch, variable, code, named,
                                                                     not_named):
    monkeypatch.setenv(variable, "wrong-value-4f1c")
    exit_code, out = cli()
    assert exit_code == 3
    assert f"Zoho refused the credentials ({code})" in out and f"Fix {named} in the environment" in out
    assert not_named not in out and "resume" not in out and "Traceback" not in out
    assert not any(s in out for s in ["wrong-value-4f1c", *_secrets(org)])


def test_a_429_storm_on_the_metadata_read_stops_the_load_and_the_same_run_resumes(cli, org, clinic):
    org.server.settings(per_minute_credits=0)  # every API call answered 429, from the first
    exit_code, out = cli()
    assert exit_code == 3
    assert "rate limited by Zoho on GET /crm/v8/org" in out  # the run's first call: which org it loads
    assert "Rerun with --run r1: it resumes with the same run id" in out and "Traceback" not in out
    org.server.settings(per_minute_credits=None)
    exit_code, out = cli()
    assert exit_code == 0, out
    assert_no_duplicates_and_all_accounted(org, clinic, "r1")


def test_a_429_storm_on_writes_stops_the_run_and_rejects_no_row(org, clinic):
    """Writes of more than 10 records are refused (429) while reads pass: the rows are not the
    problem, so none is rejected; they stay pending and the resume loads them."""
    org.server.settings(heavy_write_concurrency=0)
    with pytest.raises(LoadStopped) as stopped:
        load(org, clinic, max_attempts=1)
    assert "rate limited by Zoho on POST /crm/v8/" in str(stopped.value)
    with JournalReader(clinic.journal, runs=["run1"]) as q:
        assert q.sql("SELECT count(*) FROM load_rejects WHERE code = 'TOO_MANY_REQUESTS'") == [(0,)]
        assert q.sql("SELECT count(*) FROM load_journal WHERE status IN ('intent', 'sent')")[0][0] > 0
    org.server.settings(heavy_write_concurrency=10)
    assert load(org, clinic).pending == 0
    assert_no_duplicates_and_all_accounted(org, clinic)
