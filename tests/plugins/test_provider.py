"""The project is an Airflow provider: its entry point gives provider info that Airflow's own schema
accepts, Airflow's ProvidersManager lists the `zoho` connection type with its form (what the UI's
Add-connection dialog offers), a Connection saved from that form builds the client's config, and
no plugin, DAG or include module uses an Airflow import that Airflow 3 deprecates for airflow.sdk."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import fields
from importlib.metadata import distribution, entry_points
from importlib.resources import files

import pytest

pytest.importorskip("airflow")

from clinic2zoho.zoho.config import DATA_CENTRES, ZohoConfig  # noqa: E402
from clinic2zoho.zoho.facts import EDITIONS  # noqa: E402
from clinic2zoho_airflow import provider_info  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

FORM_FIELDS = {"refresh_token", "data_centre", "edition", "user_count"}  # the list


def _our_entry_point():
    found = [ep for ep in entry_points(group="apache_airflow_provider") if ep.dist and ep.dist.name == "clinic2zoho"]
    assert len(found) == 1, "pip install --no-deps -e . registers the entry point (pyproject.toml)"
    return found[0]


def test_the_entry_point_gives_provider_info_that_airflows_schema_accepts():
    import jsonschema

    info = _our_entry_point().load()()
    schema = json.loads(files("airflow").joinpath("provider_info.schema.json").read_text())
    jsonschema.validate(info, schema)
    # Airflow refuses a provider whose package-name is not its distribution's name
    assert info["package-name"] == distribution("clinic2zoho").metadata["name"]
    assert info["versions"] == [distribution("clinic2zoho").version]
    (conn,) = info["connection-types"]
    assert (conn["connection-type"], conn["hook-class-name"]) == ("zoho", "clinic2zoho_airflow.hooks.zoho.ZohoHook")


def test_every_listed_module_imports_and_every_operator_sensor_and_trigger_module_is_listed():
    import importlib

    from airflow.sdk import BaseOperator
    from airflow.triggers.base import BaseTrigger

    info = provider_info.get_provider_info()
    listed = {kind: {m for entry in info[kind] for m in entry["python-modules"]}
              for kind in ("operators", "sensors", "triggers", "hooks")}
    for modules in listed.values():
        for name in modules:
            importlib.import_module(name)
    on_disk: dict[str, set[str]] = {"operators": set(), "sensors": set(), "triggers": set()}
    for kind, base in (("operators", BaseOperator), ("sensors", BaseOperator), ("triggers", BaseTrigger)):
        for path in (ROOT / "plugins" / "clinic2zoho_airflow" / kind).glob("[!_]*.py"):
            module = importlib.import_module(f"clinic2zoho_airflow.{kind}.{path.stem}")
            if any(isinstance(v, type) and issubclass(v, base) and v.__module__ == module.__name__
                   for v in vars(module).values()):
                on_disk[kind].add(module.__name__)
    assert {k: listed[k] for k in on_disk} == on_disk


def test_the_forms_choices_and_defaults_are_the_clients():
    """provider_info keeps a copy (discovery must not import the client); it must agree."""
    assert provider_info.DATA_CENTRES == sorted(DATA_CENTRES)
    assert provider_info.EDITIONS == list(EDITIONS)
    defaults = {f.name: f.default for f in fields(ZohoConfig)}
    assert provider_info.DEFAULTS == {k: defaults[k] for k in provider_info.DEFAULTS}


def test_the_providers_manager_lists_the_zoho_type_and_the_ui_gets_its_form():
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    pm = ProvidersManager()
    assert pm.providers["clinic2zoho"].version == distribution("clinic2zoho").version
    hook = ProvidersManagerTaskRuntime().hooks["zoho"]  # what BaseHook.get_hook(conn_type) resolves
    assert (hook.hook_class_name, hook.hook_name) == ("clinic2zoho_airflow.hooks.zoho.ZohoHook", "Zoho CRM")
    assert hook.connection_testable  # the form's Test button calls ZohoHook.test_connection
    assert {k.split("__")[-1] for k in pm.connection_form_widgets if k.startswith("extra__zoho__")} == FORM_FIELDS
    assert pm.connection_form_widgets["extra__zoho__refresh_token"].is_sensitive  # masked in the UI
    assert pm.field_behaviours["zoho"]["hidden_fields"] == ["schema", "port"]

    # What the UI's connection dialog is served (GET /ui/connections/hook_meta)
    (meta,) = [m for m in HookMetaService.hook_meta_data() if m.connection_type == "zoho"]
    assert meta.hook_name == "Zoho CRM"
    assert (meta.standard_fields.login.title, meta.standard_fields.password.title) == ("Client ID", "Client Secret")
    assert meta.standard_fields.port.hidden and meta.standard_fields.url_schema.hidden
    extra = meta.extra_fields
    assert set(extra) == FORM_FIELDS
    assert set(extra["data_centre"]["schema"]["enum"]) - {None} == set(DATA_CENTRES)
    assert set(extra["edition"]["schema"]["enum"]) - {None} == set(EDITIONS)
    assert all(field["description"] and field["schema"]["title"] for field in extra.values())


@pytest.mark.parametrize("extra", [
    {"refresh_token": "1000.r", "data_centre": "EU", "edition": "Professional", "user_count": 12},
    {"refresh_token": "1000.r", "data_centre": None, "edition": None, "user_count": None},  # fields left empty
])
def test_a_connection_saved_from_the_form_builds_the_client_config(monkeypatch, extra):
    """The form writes its fields into the Connection's extra under their own names."""
    from clinic2zoho_airflow.hooks.zoho import ZohoHook

    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_FORM", json.dumps(
        {"conn_type": "zoho", "login": "cid", "password": "secret", "extra": extra}))
    config = ZohoHook("zoho_form").config
    defaults = {f.name: f.default for f in fields(ZohoConfig)}
    for key in ("data_centre", "edition", "user_count"):
        assert getattr(config, key) == (extra[key] if extra[key] is not None else defaults[key])


_DEPRECATION_PROBE = """
import importlib, pkgutil, sys, warnings
root = sys.argv[1]
import airflow.sdk  # Airflow's logging set-up replaces warnings.showwarning: done before recording
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import clinic2zoho_airflow
    for info in pkgutil.walk_packages(clinic2zoho_airflow.__path__, "clinic2zoho_airflow."):
        importlib.import_module(info.name)
for w in caught:
    if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning, FutureWarning)) \\
            and w.filename.startswith(root):
        print(f"DEPRECATED {w.filename}:{w.lineno}: {w.category.__name__}: {w.message}")
"""


def test_no_plugin_module_raises_a_deprecation_warning_when_imported():
    """A fresh interpreter (this one has imported them already): Airflow's DeprecatedImportWarning
    is a FutureWarning, its provider deprecations DeprecationWarnings; any attributed to our files fails."""
    result = subprocess.run([sys.executable, "-c", _DEPRECATION_PROBE, str(ROOT)], capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert [line for line in result.stdout.splitlines() if line.startswith("DEPRECATED ")] == []


# Airflow 3's public interface for DAG and operator authors is airflow.sdk (and providers);
# airflow.triggers.base has no airflow.sdk counterpart in 3.3 (the standard provider imports it too).
_ALLOWED = ("airflow.sdk", "airflow.providers", "airflow.triggers.base")
# One module changes how Airflow core builds the execution API a `dags test` process serves to
# itself, which no SDK interface reaches; it leaves Airflow's own build on any mismatch.
_CORE_ALLOWED = {"plugins/clinic2zoho_airflow/in_process_api.py": ("airflow.api_fastapi.execution_api.versions",)}


def test_plugins_dags_and_include_import_airflow_only_through_the_sdk():
    offending = []
    for folder in ("plugins", "dags", "include"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                         else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
                allowed = _ALLOWED + _CORE_ALLOWED.get(path.relative_to(ROOT).as_posix(), ())
                offending += [f"{path.relative_to(ROOT)}:{node.lineno} {name}" for name in names
                              if (name == "airflow" or name.startswith("airflow.")) and not name.startswith(allowed)]
    assert offending == []
