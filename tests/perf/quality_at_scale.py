"""Measure the data-quality suites at national scale without a national-scale refresh.

Replicates the staging and core tables of a published sample warehouse FACTOR times (keys made
unique per copy; national numbers left as they are; reference dimensions not copied), then times every suite with the
production settings of config/quality.yaml (sample_rows). Not a test: a measuring tool.

    .venv/bin/python tests/perf/quality_at_scale.py [FACTOR] [--reuse]

With the 5,000-person sample (`sijil generate --persons 5000 --seed 7` then `sijil materialize`)
FACTOR 200 gives about 1,000,000 persons. Scratch files go to $TMPDIR/sijil_quality_scale.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
FACTOR = next((int(a) for a in sys.argv[1:] if a.isdigit()), 200)
REFERENCE_TABLES = {"dim_programme", "dim_geography", "dim_date"}  # the country's, not the population's
SCRATCH = Path(tempfile.gettempdir()) / "sijil_quality_scale"
os.environ["SIJIL_HOME"] = str(SCRATCH / "home")


def replicate(source: Path, target: Path, factor: int) -> int:
    con = duckdb.connect(str(target))
    con.execute(f"attach '{source}' as src (read_only)")
    rows = 0
    tables = con.execute("select table_schema, table_name from information_schema.tables "
                         "where table_catalog = 'src' and table_schema in ('staging', 'core')").fetchall()
    for schema, table in tables:
        columns = con.execute("select column_name, data_type from information_schema.columns where table_catalog = "
                              "'src' and table_schema = ? and table_name = ? order by ordinal_position",
                              [schema, table]).fetchall()
        select = [f'"{c}" || \'~\' || r.range::varchar as "{c}"'
                  if t == "VARCHAR" and (c.endswith(("_id", "_key"))) and "national" not in c else f'"{c}"'
                  for c, t in columns]
        copies = 1 if table in REFERENCE_TABLES else factor
        con.execute(f"create schema if not exists {schema}")
        con.execute(f'create table {schema}."{table}" as select {", ".join(select)} '
                    f'from src.{schema}."{table}", range({copies}) r')
        rows += con.execute(f'select count(*) from {schema}."{table}"').fetchall()[0][0]
    con.execute("detach src")
    con.close()
    return rows


def main() -> None:
    SCRATCH.mkdir(parents=True, exist_ok=True)
    target = SCRATCH / f"scaled_x{FACTOR}.duckdb"
    if not (target.exists() and "--reuse" in sys.argv):
        target.unlink(missing_ok=True)
        started = time.time()
        rows = replicate(ROOT / "data" / "warehouse" / "sijil.duckdb", target, FACTOR)
        print(f"replicated x{FACTOR}: {rows:,} staging and core rows in {time.time() - started:.0f} s")
    con = duckdb.connect(str(target))
    print(f"persons in core.dim_person: {con.execute('select count(*) from core.dim_person').fetchall()[0][0]:,}")
    started = time.time()
    import great_expectations  # noqa: F401

    print(f"import great_expectations: {time.time() - started:.1f} s")
    from assets.profiles import load_profile
    from quality.checks import evaluate_suite, suite_validation
    from quality.suites import load_quality_config, mart_suite, source_suite, staging_columns

    profile, config = load_profile("jordan"), load_quality_config()
    suites = [source_suite(profile, c, e, staging_columns(con, e), config) for c in profile.sources for e in c.entities]
    suites += [mart_suite(profile, name, spec, config) for name, spec in config["marts"]["suites"].items()]
    all_started = time.time()
    with suite_validation() as validation:
        for suite in suites:
            started = time.time()
            result = evaluate_suite(con, suite, "scale", int(config["sample_rows"]), validation)
            print(f"  {time.time() - started:6.1f} s  {suite.name:<34} rows "
                  f"{result.metadata['rows_in_table'].value:>10,}  validated "
                  f"{result.metadata['rows_validated'].value:>8,}  passed {result.passed}")
        docs_started = time.time()
    print(f"Data Docs once: {time.time() - docs_started:.1f} s")
    print(f"all {len(suites)} suites: {time.time() - all_started:.0f} s (plus the import above)")


if __name__ == "__main__":
    main()
