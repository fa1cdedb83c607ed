"""The project as an Airflow provider: what `airflow providers list` shows and what the UI's
Add-connection form offers for the connection type ``zoho``.

Found by Airflow's ProvidersManager through the ``apache_airflow_provider`` entry point
(pyproject.toml); the dict follows airflow/provider_info.schema.json (the shape of an official
provider's `get_provider_info`, e.g. apache-airflow-providers-salesforce). Airflow 3.2+ reads the
connection form from ``conn-fields`` / ``ui-field-behaviour`` here, without importing the hook;
the hook methods get_connection_form_widgets / get_ui_field_behaviour are deprecated since 3.2
(https://airflow.apache.org/docs/apache-airflow/stable/howto/connection.html).

Every Airflow process calls this at provider discovery and a schema error stops it: keep it
static: no I/O, no import of the project's code."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

PACKAGE = "clinic2zoho_airflow"
INTEGRATION = "Zoho CRM"
CONN_TYPE = "zoho"
HOOK_CLASS = f"{PACKAGE}.hooks.zoho.ZohoHook"

OPERATOR_MODULES = [f"{PACKAGE}.operators.{name}" for name in
                    ("dbt_gate", "mapping_gate", "validate", "zoho_load", "zoho_params", "zoho_rollback", "zoho_schema")]
SENSOR_MODULES = [f"{PACKAGE}.sensors.export_changes"]
TRIGGER_MODULES = [f"{PACKAGE}.triggers.export_changes", f"{PACKAGE}.triggers.zoho_bulk_job"]
HOOK_MODULES = [f"{PACKAGE}.hooks.zoho"]


def _by_integration(modules: list[str]) -> list[dict[str, Any]]:
    return [{"integration-name": INTEGRATION, "python-modules": modules}]


# The form's choices and defaults, copied from clinic2zoho.zoho (config.DATA_CENTRES and ZohoConfig's
# defaults, facts.EDITIONS) rather than imported: discovery runs in every Airflow process and must
# not depend on the client importing cleanly. tests/plugins/test_provider.py holds them equal.
DATA_CENTRES = ["AU", "CA", "CN", "EU", "IN", "JP", "SA", "US"]
EDITIONS = ["Free", "Standard", "Professional", "Enterprise", "Ultimate"]
DEFAULTS = {"data_centre": "US", "edition": "Enterprise", "user_count": 10}


def connection_fields() -> dict[str, Any]:
    """The Connection's extra keys the form shows (`clinic2zoho.zoho.connection` reads them by these
    names); an empty one means the client's default."""
    return {
        "refresh_token": {
            "label": "Refresh token",
            "schema": {"type": ["string", "null"], "format": "password"},
            "description": "OAuth refresh token of the Self Client (required); never logged",
        },
        "data_centre": {
            "label": "Data centre",
            "schema": {"type": ["string", "null"], "enum": [*DATA_CENTRES, None],
                       "values_display": {"None": "(empty)"}},
            "description": f"where the org lives; empty: {DEFAULTS['data_centre']}, or the Base URL when one "
                           "is given (the local server)",
        },
        "edition": {
            "label": "Edition",
            "schema": {"type": ["string", "null"], "enum": [*EDITIONS, None], "values_display": {"None": "(empty)"}},
            "description": f"the org's Zoho CRM edition (daily credits, concurrency); empty: "
                           f"{DEFAULTS['edition']} (Starter is read as Standard)",
        },
        "user_count": {
            "label": "Licensed users",
            "schema": {"type": ["integer", "null"], "minimum": 0},
            "description": f"users the org pays for (daily credits grow with them); empty: {DEFAULTS['user_count']}",
        },
    }


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "clinic2zoho",  # the distribution's name: Airflow checks they agree
        "name": "clinic2zoho (Zoho CRM)",
        "description": "Migrate a medical clinic's data into `Zoho CRM <https://www.zoho.com/crm/>`__: "
                       "the Zoho Connection, load, rollback, schema and validation operators.",
        "versions": [version("clinic2zoho")],
        "integrations": [{"integration-name": INTEGRATION, "tags": ["service"],
                          "external-doc-url": "https://www.zoho.com/crm/developer/docs/api/v8/"}],
        "operators": _by_integration(OPERATOR_MODULES),
        "sensors": _by_integration(SENSOR_MODULES),
        "triggers": _by_integration(TRIGGER_MODULES),
        "hooks": _by_integration(HOOK_MODULES),
        "connection-types": [{
            "connection-type": CONN_TYPE,
            "hook-class-name": HOOK_CLASS,
            "hook-name": INTEGRATION,
            "conn-fields": connection_fields(),
            "ui-field-behaviour": {
                "hidden-fields": ["schema", "port"],
                "relabeling": {"login": "Client ID", "password": "Client Secret", "host": "Base URL (local server)"},
                "placeholders": {"host": "empty for real Zoho (the data centre says where)",
                                 "extra": '{"per_minute_credits": 500, "max_concurrency": 5}'},
            },
        }],
    }
