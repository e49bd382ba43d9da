"""dbt-duckdb plugin: installs Sijil's text macros on every dbt connection (profiles.yml)."""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin

from assets.text.duckdb_sql import install_text_macros


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        install_text_macros(conn)
