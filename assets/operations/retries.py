"""Retries for transient failures only.

A locked warehouse file or an I/O error may pass if tried again a little later; a file that
breaks its contract, a model that fails or a check that fails will not. Every asset step runs
under :func:`final_unless_transient`: a transient error is re-raised for the retry policy
(exponential backoff with jitter, from config/operations.yaml) and anything else becomes a
``dg.Failure(allow_retries=False)`` carrying the original message, so it fails at once.

The policy is the asset's own (:func:`transient_retry_policy` on every asset definition), not
only the named jobs', so it holds in every run that materialises the asset: a refresh, a run
launched from the UI, by declarative automation, a sensor or a schedule, or a backfill.
"""

from __future__ import annotations

import functools
import inspect

import dagster as dg
import duckdb

from assets.errors import SijilError
from assets.operations.config import OperationsConfig, load_operations_config

PERMANENT_OS_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError, FileExistsError)
TRANSIENT_MESSAGES = ("could not set lock", "conflicting lock", "resource temporarily unavailable",
                      "database is locked")


def retry_policy(config: OperationsConfig) -> dg.RetryPolicy:
    return dg.RetryPolicy(max_retries=config.max_retries, delay=config.retry_delay_seconds,
                          backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def transient_retry_policy() -> dg.RetryPolicy:
    """The retry policy every asset carries (config/operations.yaml, read when the code location
    loads); the asset's compute function must be wrapped by :func:`final_unless_transient`."""
    return retry_policy(load_operations_config())


def is_transient(exc: BaseException) -> bool:
    """A failure worth trying again: I/O and lock errors, also as the cause of another error.
    Bad data (SijilError) and a missing or forbidden file are final, whatever caused them."""
    if isinstance(exc, SijilError):
        return False
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, PERMANENT_OS_ERRORS):
            return False
        if isinstance(exc, (OSError, TimeoutError, duckdb.IOException)):
            return True
        if any(m in str(exc).lower() for m in TRANSIENT_MESSAGES):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _final_failure(exc: Exception) -> dg.Failure | None:
    """None to re-raise `exc` as it is (transient: the policy retries it; or already final);
    otherwise — including a dbt failure, a dg.Failure that would allow retries — a final Failure."""
    if is_transient(exc) or (isinstance(exc, dg.Failure) and not exc.allow_retries):
        return None
    message = str(exc).strip() or type(exc).__name__
    return dg.Failure(description=message, allow_retries=False)


def final_unless_transient(fn):
    """Wrap an asset's compute function (plain or generator) so only transient errors retry."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def generator(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:
                final = _final_failure(exc)
                if final is None:
                    raise
                raise final from exc
        return generator

    @functools.wraps(fn)
    def plain(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            final = _final_failure(exc)
            if final is None:
                raise
            raise final from exc
    return plain
