"""docker-compose.yml is a deployment that will hold patient data: it takes a login (no
all-admins), refuses to start while any secret is unset (every secret is a `${VAR:?...}` with no
default), and the demo's conveniences (the local Zoho server) live in docker-compose.demo.yml
only. Docker does not run here: the files are parsed and interpolated as compose does."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import stat
import subprocess
import sys

import pytest
import yaml

from tests.cluster.compose_env import MissingVariable, interpolate, read_env_file, references
from tests.cluster.harness import ROOT

COMPOSE, DEMO = ROOT / "docker-compose.yml", ROOT / "docker-compose.demo.yml"
SECRET_NAME = re.compile(r"SECRET|PASSWORD|FERNET|TOKEN|KEY|^AIRFLOW_CONN_")
# Settings whose value is, or embeds, a secret.
SECRET_SETTINGS = re.compile(r"SECRET|PASSWORD|FERNET_KEY|SQL_ALCHEMY_CONN|RESULT_BACKEND|^AIRFLOW_CONN_")


def load(path):
    return yaml.safe_load(path.read_text())


def secrets_env():
    spec = importlib.util.spec_from_file_location("secrets_env", ROOT / "docker" / "secrets_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def compose() -> dict:
    return load(COMPOSE)


@pytest.fixture(scope="module")
def demo() -> dict:
    return load(DEMO)


def environments(doc: dict):
    for name, service in doc["services"].items():
        env = service.get("environment") or {}
        assert isinstance(env, dict), f"{name}: environment as a mapping"
        yield name, env


def test_no_file_lets_everyone_in_as_admin():
    for path in (COMPOSE, DEMO):
        assert "ALL_ADMINS" not in path.read_text(), path.name


def test_the_deployment_takes_a_login_whose_password_airflow_never_generates(compose):
    env = compose["x-airflow-common"]["environment"]
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("simple_auth_manager.SimpleAuthManager")
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "${AIRFLOW_ADMIN_USER:-admin}:admin"
    passwords = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    services = compose["services"]
    login = services["airflow-login"]
    assert login["environment"]["AIRFLOW_ADMIN_PASSWORD"].startswith("${AIRFLOW_ADMIN_PASSWORD:?")
    assert "AIRFLOW_ADMIN_PASSWORD" not in env  # only the one-shot service sees it
    mounts = {name: [v.split(":")[1] for v in s.get("volumes", []) if v.startswith("airflow-auth:")]
              for name, s in services.items()}
    folder = os.path.dirname(passwords)
    assert {name for name, m in mounts.items() if folder in m} == {"airflow-login", "airflow-api-server"}
    assert services["airflow-api-server"]["depends_on"]["airflow-login"]["condition"] == "service_completed_successfully"
    assert "airflow-auth" in compose["volumes"]


def test_every_secret_is_a_required_variable_without_default(compose, demo):
    for doc in (compose, demo):
        for m in references(doc):
            if SECRET_NAME.search(m["name"]):
                assert m["op"] == ":?", f"${{{m['name']}{m['op'] or ''}...}} must be ${{{m['name']}:?...}}"
                assert m["name"] in m["arg"], f"{m['name']}: compose's refusal names what to set"
        for service, env in environments(doc):
            for key, value in env.items():
                if SECRET_SETTINGS.search(key) and not key.endswith("_FILE"):  # a file's path is no secret
                    required = [m for m in references(str(value)) if m["op"] == ":?"]
                    assert required, f"{service}: {key} holds a literal secret or a default"
    urls = [compose["x-airflow-common"]["environment"][k] for k in
            ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND")]
    for url in urls:
        assert url.split("://", 1)[1].startswith("airflow:${POSTGRES_PASSWORD:?"), url
    assert compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def required_variables(*docs: dict) -> set[str]:
    return {m["name"] for doc in docs for m in references(doc) if m["op"] == ":?"}


def test_compose_refuses_to_start_while_any_secret_is_unset(compose, demo, tmp_path):
    env_file = tmp_path / ".env"
    assert secrets_env().main(["--demo", "--out", str(env_file)]) == 0
    env = read_env_file(env_file.read_text())
    assert required_variables(compose, demo) == set(env)  # the script covers every one
    merged = interpolate(compose, env)
    assert interpolate(demo, env)["services"]["zoho-server"]
    for name in sorted(required_variables(compose)):
        with pytest.raises(MissingVariable) as refused:
            interpolate(compose, {k: v for k, v in env.items() if k != name})
        assert refused.value.name == name
        with pytest.raises(MissingVariable):
            interpolate(compose, {**env, name: ""})
    common = merged["x-airflow-common"]["environment"]
    assert common["AIRFLOW__API_AUTH__JWT_SECRET"] == env["AIRFLOW_JWT_SECRET"]
    assert env["POSTGRES_PASSWORD"] in common["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert json.loads(common["AIRFLOW_CONN_ZOHO_DEFAULT"])["extra"]["api_url"] == "http://zoho-server:8088"


def test_secrets_env_writes_fresh_values_owner_only_and_never_replaces_a_file(tmp_path, capsys):
    module = secrets_env()
    first, second = tmp_path / "a.env", tmp_path / "b.env"
    assert module.main(["--out", str(first)]) == 0 and module.main(["--out", str(second)]) == 0
    a, b = read_env_file(first.read_text()), read_env_file(second.read_text())
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    secret_keys = [k for k in a if k != "AIRFLOW_CONN_ZOHO_DEFAULT"]
    assert all(a[k] and a[k] != b[k] for k in secret_keys)
    from cryptography.fernet import Fernet

    Fernet(a["AIRFLOW_FERNET_KEY"].encode())  # a valid key
    assert len(a["AIRFLOW_JWT_SECRET"]) >= 64
    assert a["AIRFLOW_CONN_ZOHO_DEFAULT"] == ""  # the real org: compose refuses until it is set
    with pytest.raises(MissingVariable, match="AIRFLOW_CONN_ZOHO_DEFAULT"):
        interpolate(load(COMPOSE), a)
    before = first.read_text()
    assert module.main(["--out", str(first)]) == 1 and first.read_text() == before
    out = capsys.readouterr()
    assert not any(value in out.out + out.err for value in a.values() if value)


def test_the_login_service_writes_a_password_file_airflow_uses_without_generating(compose, tmp_path, monkeypatch):
    login = compose["services"]["airflow-login"]
    password_file = tmp_path / "auth" / "passwords.json"
    password_file.parent.mkdir()
    env = {"PATH": os.environ["PATH"], "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(password_file),
           "AIRFLOW_ADMIN_USER": "admin", "AIRFLOW_ADMIN_PASSWORD": "a-password-from-env"}
    argv = login["command"]
    subprocess.run([sys.executable, *argv[1:]], env=env, check=True)
    assert json.loads(password_file.read_text()) == {"admin": "a-password-from-env"}
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600

    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin")
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(password_file))
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "False")
    SimpleAuthManager().init()
    assert json.loads(password_file.read_text()) == {"admin": "a-password-from-env"}  # nothing generated
    assert SimpleAuthManager.get_passwords() == {"admin": "a-password-from-env"}


def test_the_local_zoho_server_is_the_demos_only(compose, demo):
    assert "zoho-server" not in compose["services"]
    assert set(demo["services"]) == {"zoho-server"}
    assert not any(key.startswith("x-") for key in demo)  # nothing else of the deployment is changed
