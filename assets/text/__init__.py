"""Text features for matching: Arabic and Latin name normalisation, transliteration, keys.

The rules live once, as data, in `arabic.py`; `duckdb_sql.py` renders the same rules as DuckDB
macros so dbt models and Python give identical results.
"""
