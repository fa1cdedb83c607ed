"""dbt-duckdb plugin (named in dbt_project/profiles.yml): registers the Python functions the
mapping calls from SQL on every connection dbt opens."""

from __future__ import annotations

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from clinic2zoho.transform.duckdb_functions import register_functions


class Plugin(BasePlugin):
    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        register_functions(conn)
