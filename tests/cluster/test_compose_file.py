"""docker-compose.yml is for users' deployments; Docker does not run here, so check what can be
checked: the file parses, has the services a Celery deployment needs, every service runs a
command that exists in this Airflow / this project's CLI, and those are the commands the cluster
harness runs (tests/cluster/test_cluster_smoke.py runs them for real, without Docker)."""

from __future__ import annotations

import argparse
import importlib
import shlex
from urllib.parse import urlsplit

import pytest
import yaml

from clinic2zoho.cli import COMMANDS
from tests.cluster.harness import MIGRATE_ARGS, ROOT, AirflowCluster

COMPOSE = ROOT / "docker-compose.yml"
DEMO = ROOT / "docker-compose.demo.yml"  # the demo adds the local Zoho server
AIRFLOW_SERVICES = {
    "airflow-init": ("db", "migrate"),
    "airflow-api-server": ("api-server",),
    "airflow-scheduler": ("scheduler",),
    "airflow-dag-processor": ("dag-processor",),
    "airflow-triggerer": ("triggerer",),
    "airflow-worker": ("celery", "worker"),
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def airflow_parser() -> argparse.ArgumentParser:
    from airflow.cli import cli_parser

    return cli_parser.get_parser()


def _argv(service: dict) -> list[str]:
    command = service.get("command")
    return shlex.split(command) if isinstance(command, str) else list(command or [])


def _subcommand(argv: list[str]) -> tuple[str, ...]:
    """The sub-command path of an argv: the words after the program, before the first option."""
    words = []
    for word in argv[1:]:
        if word.startswith("-"):
            break
        words.append(word)
    return tuple(words)


def test_compose_file_has_every_service_of_a_celery_deployment(compose):
    services = compose["services"]
    assert {"postgres", "redis", "airflow-login", *AIRFLOW_SERVICES} <= set(services)
    for name, service in services.items():
        for dependency in service.get("depends_on") or {}:
            assert dependency in services, f"{name} depends on unknown service {dependency}"
    assert services["airflow-worker"]["deploy"]["replicas"] >= 2


def test_airflow_services_share_a_celery_configuration(compose):
    env = compose["x-airflow-common"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    broker, api = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"]), urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert broker.scheme == "redis" and broker.hostname in compose["services"]
    assert api.hostname in compose["services"] and api.path.rstrip("/") == "/execution"
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"], "every component must sign and check tokens with one secret"
    for name in AIRFLOW_SERVICES:
        own = dict(compose["services"][name]["environment"])
        if name == "airflow-worker":  # the workers add the modules they import once (celery_worker)
            options = own.pop("AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS")
            module, _, attr = options.rpartition(".")
            config = getattr(importlib.import_module(module), attr)
            assert config["broker_url"] and "clinic2zoho_airflow.operators.clinic_tasks" in config["imports"]
        assert own == env, name


@pytest.mark.parametrize("name", sorted(AIRFLOW_SERVICES))
def test_each_airflow_service_runs_an_airflow_command_that_exists(compose, airflow_parser, name):
    argv = _argv(compose["services"][name])
    assert argv[0] == "airflow" and _subcommand(argv) == AIRFLOW_SERVICES[name], argv
    try:
        parsed = airflow_parser.parse_args(argv[1:])
    except SystemExit as exc:  # argparse exits on an unknown command or option
        pytest.fail(f"`{' '.join(argv)}` is not a valid command of this Airflow ({exc})")
    assert callable(parsed.func)


def test_compose_creates_every_pool_the_dags_need(compose, airflow_parser):
    from clinic2zoho.cluster.pools import REQUIRED_POOLS

    argv = _argv(compose["services"]["airflow-pools"])
    assert argv[1:3] == ["pools", "set"], argv
    airflow_parser.parse_args(argv[1:])
    name, slots = argv[3], int(argv[4])
    assert set(REQUIRED_POOLS) == {name} and REQUIRED_POOLS[name][0] == slots
    assert "airflow-pools" in compose["services"]["airflow-scheduler"]["depends_on"]


def test_zoho_server_service_runs_the_projects_registered_command():
    from tests.cluster.compose_env import interpolate

    demo = interpolate(yaml.safe_load(DEMO.read_text()), {"ZOHO_DEMO_CLIENT_ID": "1000.ID",
                                                           "ZOHO_DEMO_CLIENT_SECRET": "s" * 40,
                                                           "ZOHO_DEMO_REFRESH_TOKEN": "1000.refresh"})
    argv = _argv(demo["services"]["zoho-server"])
    assert argv[:2] == ["clinic2zoho", "zoho-server"] and "zoho-server" in COMMANDS, argv
    module = importlib.import_module(COMMANDS["zoho-server"][0])
    parser = argparse.ArgumentParser(prog="clinic2zoho zoho-server")
    module.configure(parser)
    try:
        parser.parse_args(argv[2:])
    except SystemExit as exc:
        pytest.fail(f"`{' '.join(argv)}` has options clinic2zoho zoho-server does not accept ({exc})")


def test_the_cluster_harness_runs_the_same_airflow_commands_as_compose(tmp_path):
    cluster = AirflowCluster(tmp_path, dags=[])  # not started: only its command lines are read
    harness = {tuple(MIGRATE_ARGS)} | {_subcommand(args) for _, args, _ in cluster.component_args()}
    assert harness == set(AIRFLOW_SERVICES.values())
    workers = [args for name, args, _ in cluster.component_args() if name in cluster.worker_names]
    assert len(workers) == 2 and all("--concurrency" in args for args in workers)
