"""What the warehouse's catalogue holds, asked in one place (plain DuckDB, no heavy imports)."""

from __future__ import annotations


def table_exists(con, schema: str, name: str) -> bool:
    """Whether the connection's own database holds the table or view `schema.name`."""
    return bool(con.execute("select 1 from information_schema.tables where table_catalog = current_database() "
                            "and table_schema = ? and table_name = ?", [schema, name]).fetchall())
