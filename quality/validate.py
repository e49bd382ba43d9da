"""Run one suite with Great Expectations 1.x on pandas frames read from DuckDB.

GX cannot validate DuckDB tables through SQL (reference/stack_notes.md), so each suite's frame
is read from the relation — a view first copied into a temporary table, so that it is computed
once, not once per read; a table read as it is — whole, or a repeatable sample when the table is
larger than `sample_rows`, with the key columns of every row for key uniqueness.
great_expectations is imported here, inside the functions, never when the Dagster code location
loads; one `Validation` holds the GX context of a check step and builds its Data Docs once.

Results keep counts only: result_format BASIC with no partial unexpected values, and every
outcome is reduced to element count, unexpected count and a numeric observed value. Failing
values (national numbers, names) never leave this module.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from quality.expectations import Expectation, Suite

RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0, "include_unexpected_rows": False}
WHOLE_TABLE_KINDS = {"ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique"}


@dataclass(frozen=True)
class Outcome:
    """One expectation's result, counts only."""

    expectation: str
    rule: str
    column: str | None
    dimension: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    observed_value: float | None  # the unexpected percentage, or a numeric observed value


@dataclass(frozen=True)
class Frames:
    rows: pd.DataFrame  # the rows row-level expectations see (all, or a sample)
    keys: pd.DataFrame | None  # the key columns of every row, when the rows are a sample
    table_rows: int


ROWS_COPY = "sj_quality_rows"


def read_frames(con, suite: Suite, sample_rows: int) -> Frames:
    """The suite's frame from the warehouse; sampled above `sample_rows` rows.

    The sample is the `sample_rows` frame rows of smallest hash of their values: the same rows
    whatever DuckDB's threads or the table's physical order, so a re-run validates the same rows
    (DuckDB's `reservoir ... repeatable` is repeatable on one thread only)."""
    schema, _, name = suite.relation.rpartition(".")
    is_table = con.execute("select count(*) from information_schema.tables where table_catalog = current_database() "
                           "and table_schema = coalesce(nullif(?, ''), current_schema()) and table_name = ? "
                           "and table_type = 'BASE TABLE'",
                           [schema, name]).fetchall()[0][0] > 0
    rows_from = suite.relation if is_table else ROWS_COPY
    if not is_table:
        con.execute(f"create or replace temp table {ROWS_COPY} as select * from {suite.relation}")
    try:
        table_rows = con.execute(f"select count(*) from {rows_from}").fetchall()[0][0]
        frame = suite.frame_query(rows_from)
        if table_rows <= sample_rows:
            return Frames(con.execute(frame).df(), None, table_rows)
        rows = con.execute(f"select * from ({frame}) as f order by hash(*columns(f.*)) limit {int(sample_rows)}").df()
        keys = con.execute(f"select {', '.join(suite.key)} from {rows_from}").df() if suite.key else None
        return Frames(rows, keys, table_rows)
    finally:
        con.execute(f"drop table if exists {ROWS_COPY}")


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def outcome_of(expectation: Expectation, result) -> Outcome:
    """Reduce a GX ExpectationValidationResult to counts (never values)."""
    details = result.result or {}
    observed = _number(details.get("unexpected_percent"))
    if observed is None:
        observed = _number(details.get("observed_value"))
    return Outcome(
        expectation=expectation.kind, rule=expectation.rule, column=expectation.column,
        dimension=expectation.dimension, success=bool(result.success),
        element_count=_int(details.get("element_count")), unexpected_count=_int(details.get("unexpected_count")),
        observed_value=observed)


def _int(value) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable extension dtypes as plain object/float columns, which GX's pandas engine expects."""
    out = frame.copy()
    for name in out.columns:
        dtype = out[name].dtype
        if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.StringDtype) or dtype == "string":
            out[name] = out[name].astype(object).where(out[name].notna(), None)
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            out[name] = out[name].dt.date.astype(object).where(out[name].notna(), None)
    return out


def _no_frame_fingerprints() -> None:
    """GX's pandas engine marks each batch under 1 GB with an MD5 of pandas' hash of every value
    (`pandas_data_fingerprint`, metadata only): 1.1 s of the 3 s a 200,000-row frame's suite
    takes. Sijil's frames are read from the warehouse for one validation and never compared by
    that marker, so the engine's threshold is set to 0 (test_quality.py checks it still exists)."""
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


def _context(project_dir: Path | None):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    _no_frame_fingerprints()

    if project_dir is None:
        context = gx.get_context(mode="ephemeral")
    else:
        project_dir.mkdir(parents=True, exist_ok=True)
        context = gx.get_context(mode="file", project_root_dir=str(project_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _fingerprint(expectations: list[Expectation]) -> str:
    """What a suite's GX objects are registered from: its expectations, in order, the result
    format and the GX version (an upgrade registers them again in its own form)."""
    from great_expectations import __version__

    text = json.dumps([__version__, RESULT_FORMAT, *([e.kind, e.kwargs, e.dimension, e.rule] for e in expectations)],
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _checkpoint(context, name: str, expectations: list[Expectation]):
    """The datasource asset, suite, validation definition and checkpoint for `name`: the ones the
    context holds when its suite was registered from these expectations (the fingerprint in the
    suite's meta), else registered again. A file context writes each object it registers to disk:
    0.1 s a suite, 2 s of each refresh's source suites, where reading them back takes 2 ms."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.exceptions import DataContextError

    fingerprint = _fingerprint(expectations)
    try:
        held = context.checkpoints.get(name)
        if held.validation_definitions[0].suite.meta.get("sijil_fingerprint") == fingerprint:
            return held
    except (DataContextError, LookupError, ValueError, TypeError):  # none held, or not readable: registered again
        pass
    try:
        source = context.data_sources.get("sijil_frames")
    except (KeyError, ValueError):
        source = context.data_sources.add_pandas("sijil_frames")
    try:
        asset = source.get_asset(name)
    except LookupError:
        asset = source.add_dataframe_asset(name)
    try:
        batch = asset.get_batch_definition("whole_frame")
    except KeyError:
        batch = asset.add_batch_definition_whole_dataframe("whole_frame")
    suite = context.suites.add_or_update(gx.ExpectationSuite(
        name=name, meta={"sijil_fingerprint": fingerprint}, expectations=[
            getattr(gxe, e.kind)(**e.kwargs, meta={"sijil_index": i, "dimension": e.dimension, "rule": e.rule})
            for i, e in enumerate(expectations)]))
    definition = context.validation_definitions.add_or_update(gx.ValidationDefinition(name=name, data=batch,
                                                                                      suite=suite))
    return context.checkpoints.add_or_update(gx.Checkpoint(name=name, validation_definitions=[definition],
                                                           result_format=RESULT_FORMAT))


class Validation:
    """The Great Expectations context of one check step. Suites run one after another; with a
    project directory their results persist there, and `build_docs` renders the Data Docs of
    this step's results once (GX's UpdateDataDocsAction rebuilds the site's index per suite)."""

    def __init__(self, project_dir: Path | None = None):
        self.project_dir = project_dir
        self.context = _context(project_dir)
        self._documents: list = []

    def run(self, suite: Suite, frames: Frames) -> list[Outcome]:
        whole = [e for e in suite.expectations if e.kind in WHOLE_TABLE_KINDS and frames.keys is not None]
        parts = [(suite.name, [e for e in suite.expectations if e not in whole], frames.rows)]
        if whole:
            parts.append((f"{suite.name}.keys", whole, frames.keys))
        outcomes: list[Outcome] = []
        for name, expectations, frame in parts:
            result = _checkpoint(self.context, name, expectations).run(batch_parameters={"dataframe": _frame(frame)})
            for identifier, validation in result.run_results.items():
                self._documents.append(identifier)
                # GX may reorder a suite's expectations: match each result by the index in its meta.
                for item in validation.results:
                    outcomes.append(outcome_of(expectations[int(item.expectation_config.meta["sijil_index"])], item))
        return outcomes

    def build_docs(self) -> Path | None:
        """Render this step's validation results and their suites; returns the GX site folder."""
        if self.project_dir is None:
            return None
        if self._documents:
            suites = {i.expectation_suite_identifier.name: i.expectation_suite_identifier for i in self._documents}
            self.context.build_data_docs(resource_identifiers=[*self._documents, *suites.values()])
            self._documents = []
        return self.project_dir / "gx" / "uncommitted" / "data_docs" / "local_site"

