"""No secret reaches a log file written by `clinic2zoho migrate`, at any log level.

Airflow's in-process task runner (`airflow dags test`) logs every mask-secret request at DEBUG with
the secret in it; migrate masks the secrets of its Zoho orgs in the children's output before it is
written. The last test runs a real `airflow dags test` of a task reading the Zoho Connection at
DEBUG through migrate's own functions (~15 s): the probe that leaked before."""

from __future__ import annotations

import sys
import textwrap
import time

import pytest

from clinic2zoho import migrate
from clinic2zoho.orchestration.redacted_output import RedactedProcess, Redactor, run_redacted
from clinic2zoho.zoho import ZohoConfig
from clinic2zoho.zoho.connection import connection_json

SECRET = "c0ffee" * 8
REFRESH = "1000." + "ab12" * 16


def test_redactor_masks_each_secret_longest_first():
    redact = Redactor([SECRET, SECRET[:10], REFRESH, ""])
    out = redact(f"a={SECRET} b={REFRESH} c={SECRET[:10]}x\n".encode())
    assert out == b"a=*** b=*** c=***x\n"
    assert Redactor([])(b"nothing to mask") == b"nothing to mask"


def test_a_secret_too_short_to_mask_reliably_is_refused():
    with pytest.raises(ValueError, match="shorter than 8"):
        Redactor(["abc"])


def test_child_output_reaches_the_log_masked_stdout_and_stderr(tmp_path):
    log = tmp_path / "child.log"
    code = textwrap.dedent(f"""
        import sys
        for i in range(2000):
            print("line", i, {SECRET!r}, flush=i % 7 == 0)
        sys.stderr.write("err " + {REFRESH!r} + "\\n")
        sys.stdout.write("no newline at the end " + {SECRET!r})
    """)
    assert run_redacted([sys.executable, "-c", code], {}, log, Redactor([SECRET, REFRESH])) == 0
    text = log.read_text()
    assert SECRET not in text and REFRESH not in text
    assert text.count("***") == 2002 and text.endswith("no newline at the end ***")


def test_a_terminated_child_leaves_its_log_masked(tmp_path):
    log = tmp_path / "child.log"
    code = f"import time; print({SECRET!r}, flush=True); time.sleep(60)"
    proc = RedactedProcess([sys.executable, "-c", code], {}, log, Redactor([SECRET]))
    deadline = time.monotonic() + 10
    while "***" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.terminate()
    assert proc.wait(timeout=30) != 0
    assert log.read_text() == "***\n"


PROBE_DAG = '''
import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
def secret_probe():
    @task
    def read_connection():
        from clinic2zoho_airflow.hooks.zoho import ZohoHook

        config = ZohoHook("zoho_default").config
        print("connection read for client", len(config.client_id))

    read_connection()


secret_probe()
'''


@pytest.mark.slow
def test_airflow_at_debug_reading_the_zoho_connection_logs_no_secret(tmp_path):
    home = tmp_path / "work"
    (home / "logs").mkdir(parents=True)
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "secret_probe.py").write_text(PROBE_DAG)
    config = ZohoConfig("1000.PROBECLIENTID0001", SECRET, REFRESH, data_centre=None,
                        accounts_url="http://127.0.0.1:9", api_url="http://127.0.0.1:9", upload_url="http://127.0.0.1:9")
    env = migrate.airflow_env(home, "DEBUG", {"zoho_default": connection_json(config)}, "generic")
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags)
    redact = Redactor([config.client_id, SECRET, REFRESH])

    migrate.init_airflow(env, home / "logs", redact)
    outcome = migrate.run_dag("secret_probe", {}, env, home / "logs", redact)

    log = outcome.log.read_text()
    assert outcome.ok, log[-3000:]
    assert "connection read for client" in log and "[debug" in log  # the task ran, at DEBUG
    # Airflow did write the mask requests (masked here): the probe exercises the leak it must.
    assert "MaskSecret(value='***'" in log or "'refresh_token': '***'" in log
    for path in [p for p in home.rglob("*") if p.is_file() and p.suffix in {".log", ".txt", ".json", ""}]:
        text = path.read_text(errors="replace")
        for value in (SECRET, REFRESH):
            assert value not in text, f"{path.relative_to(home)} holds a secret"
