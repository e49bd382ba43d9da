"""Run one suite with Great Expectations 1.x on pandas frames read from DuckDB.

GX cannot validate DuckDB tables through SQL (reference/stack_notes.md), so the frame is read
with the suite's query — a repeatable sample when the table is larger than `sample_rows` — and
key uniqueness reads the key columns of the whole table. great_expectations is imported here,
inside the functions, never when the Dagster code location loads.

Results keep counts only: result_format BASIC with no partial unexpected values, and every
outcome is reduced to element count, unexpected count and a numeric observed value. Failing
values (national numbers, names) never leave this module.
"""

from __future__ import annotations

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


def read_frames(con, suite: Suite, sample_rows: int) -> Frames:
    """The suite's frame from the warehouse; sampled (repeatably) above `sample_rows` rows.

    A reservoir sample of a table no larger than the reservoir is the whole table, so one pass
    tells both; only a table that fills the reservoir has its keys read (whose count is the
    table's rows). Each pass computes the staging view again, so none is spent on a count alone."""
    rows = con.execute(f"select * from ({suite.query}) using sample reservoir({int(sample_rows)} rows) "
                       f"repeatable (42)").df()
    if len(rows) < sample_rows:
        return Frames(rows, None, len(rows))
    if suite.key_query:
        keys = con.execute(suite.key_query).df()
        return Frames(rows, keys, len(keys))
    total = con.execute(f"select count(*) from ({suite.query})").fetchall()[0][0]
    return Frames(rows, None, total)


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


def _context(project_dir: Path | None):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    if project_dir is None:
        context = gx.get_context(mode="ephemeral")
    else:
        project_dir.mkdir(parents=True, exist_ok=True)
        context = gx.get_context(mode="file", project_root_dir=str(project_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _checkpoint(context, name: str, expectations: list[Expectation], with_docs: bool):
    """A (re)registered datasource asset, suite, validation definition and checkpoint for `name`."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

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
    suite = context.suites.add_or_update(gx.ExpectationSuite(name=name, expectations=[
        getattr(gxe, e.kind)(**e.kwargs, meta={"sijil_index": i, "dimension": e.dimension, "rule": e.rule})
        for i, e in enumerate(expectations)]))
    definition = context.validation_definitions.add_or_update(gx.ValidationDefinition(name=name, data=batch,
                                                                                      suite=suite))
    actions = [gx.checkpoint.UpdateDataDocsAction(name="data_docs")] if with_docs else []
    return context.checkpoints.add_or_update(gx.Checkpoint(name=name, validation_definitions=[definition],
                                                           actions=actions, result_format=RESULT_FORMAT))


def run_suite(suite: Suite, frames: Frames, project_dir: Path | None = None) -> list[Outcome]:
    """Validate the suite's frames; with `project_dir`, results and Data Docs persist there."""
    context = _context(project_dir)
    whole = [e for e in suite.expectations if e.kind in WHOLE_TABLE_KINDS and frames.keys is not None]
    parts = [(suite.name, [e for e in suite.expectations if e not in whole], frames.rows)]
    if whole:
        parts.append((f"{suite.name}.keys", whole, frames.keys))
    outcomes: list[Outcome] = []
    for name, expectations, frame in parts:
        checkpoint = _checkpoint(context, name, expectations, with_docs=project_dir is not None)
        result = checkpoint.run(batch_parameters={"dataframe": _frame(frame)})
        for validation in result.run_results.values():
            # GX may reorder a suite's expectations: match each result by the index in its meta.
            for item in validation.results:
                outcomes.append(outcome_of(expectations[int(item.expectation_config.meta["sijil_index"])], item))
    return outcomes
