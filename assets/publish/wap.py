"""Write-audit-publish: each refresh builds a new warehouse file and only a checked build is
swapped in, atomically; earlier versions are kept for rollback.

A reader who has the published file open keeps reading the old version (the rename does not
touch an open file) and never sees a half-built one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from assets.errors import SijilError
from assets.publish.access import apply_access_modes
from assets.settings import Settings


@dataclass
class PublishResult:
    engineering: Path
    analytics: Path
    version: str
    analytics_rows: dict[str, int]


def builds_dir(settings: Settings) -> Path:
    return settings.published_warehouse.parent / "builds"


def versions_dir(settings: Settings) -> Path:
    return settings.published_warehouse.parent / "versions"


def analytics_path(settings: Settings) -> Path:
    return settings.published_warehouse.parent / "analytics.duckdb"


def reports_path(settings: Settings) -> Path:
    """Where the published report and workbook live (what M&E officers open)."""
    return settings.home / "reports"


def build_reports(warehouse: Path) -> Path:
    """Where a run writes its report and workbook: beside the warehouse file it builds, so that
    only a published build's reports replace the published ones."""
    return warehouse.with_name(warehouse.stem + ".reports")
@contextlib.contextmanager
def refresh_lock(settings: Settings):
    """One refresh or rollback at a time. Holding the lock, any build file left in builds/ was
    left by a refresh that was killed, and is removed. The lock dies with its process."""
    path = settings.published_warehouse.parent / "refresh.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SijilError(f"another refresh or rollback is running (lock {path}); try again when it ends") from None
        try:
            for stale in builds_dir(settings).glob("*.duckdb*"):
                _remove(stale)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove(path: Path) -> None:
    """A build's file, or the directory DuckDB spilled into beside it (`<build>.tmp`)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def begin_build(settings: Settings, run_name: str) -> Path:
    """A fresh build file, starting from the published warehouse (linkage ids and history
    carry over); the published file itself is never written by a refresh."""
    build = builds_dir(settings) / f"{run_name}.duckdb"
    build.parent.mkdir(parents=True, exist_ok=True)
    if settings.published_warehouse.exists():
        shutil.copyfile(settings.published_warehouse, build)
    return build


def publish(build: Path, settings: Settings, key, config: dict) -> PublishResult:
    """Swap a checked build in as the published warehouse and rebuild the analytics warehouse."""
    from assets.profiles import load_profile
    from assets.publish.analytics import build_analytics, leak_patterns, scan_for_pii
    from assets.publish.pseudonyms import pseudonym_store_path

    version = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    analytics_build = build.with_name(build.stem + ".analytics.duckdb")
    rows = build_analytics(build, analytics_build, key, config, pseudonym_store_path(settings))
    with duckdb.connect(str(analytics_build), read_only=True) as con:
        leaks = scan_for_pii(con, leak_patterns(load_profile(settings.profile).identifiers))
    if leaks:
        discard(build)
        raise SijilError("not published: the analytics warehouse would hold what looks like national or phone "
                         f"numbers in {', '.join(leaks)}; fix config/publish.yaml")
    published = settings.published_warehouse
    keep = versions_dir(settings)
    keep.mkdir(parents=True, exist_ok=True)
    if published.exists():
        keep_version(published, keep / f"sijil-{version}.duckdb")
    os.replace(build, published)
    os.replace(analytics_build, analytics_path(settings))
    _remove(build.with_name(build.name + ".tmp"))
    _publish_reports(build_reports(build), reports_path(settings))
    old = sorted(keep.glob("sijil-*.duckdb"))
    for stale in old[: max(0, len(old) - int(config.get("keep_versions", 3)))]:
        stale.unlink()
    apply_access_modes(settings)
    return PublishResult(published, analytics_path(settings), version, rows)


def keep_version(published: Path, kept: Path) -> None:
    """Keep the published file as a version: a second name for the same file (the swap that
    follows gives the published name a new file), or a copy where the file system has no links."""
    try:
        os.link(published, kept)
    except OSError:
        shutil.copyfile(published, kept)


def _publish_reports(built: Path, published: Path) -> None:
    if not built.is_dir():
        return
    published.mkdir(parents=True, exist_ok=True)
    for path in built.iterdir():
        os.replace(path, published / path.name)
    built.rmdir()


def discard(build: Path) -> None:
    """Remove a build that failed its checks (the published warehouse and reports are untouched)."""
    for path in (build, build.with_name(build.stem + ".analytics.duckdb"), build.with_name(build.name + ".tmp")):
        _remove(path)
    shutil.rmtree(build_reports(build), ignore_errors=True)


def rollback(settings: Settings, key, config: dict, version: str | None = None) -> str:
    """Restore a kept version (default: the newest) as the published warehouse."""
    from assets.publish.analytics import build_analytics
    from assets.publish.pseudonyms import pseudonym_store_path

    kept = sorted(versions_dir(settings).glob("sijil-*.duckdb"))
    if not kept:
        raise SijilError(f"no earlier version kept in {versions_dir(settings)}")
    chosen = kept[-1] if version is None else versions_dir(settings) / f"sijil-{version}.duckdb"
    if not chosen.exists():
        raise SijilError(f"no version {version}; kept: {', '.join(p.stem[6:] for p in kept)}")
    staged = builds_dir(settings) / f"rollback-{chosen.stem}.duckdb"
    staged.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(chosen, staged)
    analytics_build = staged.with_name(staged.stem + ".analytics.duckdb")
    build_analytics(staged, analytics_build, key, config, pseudonym_store_path(settings))
    os.replace(staged, settings.published_warehouse)
    os.replace(analytics_build, analytics_path(settings))
    apply_access_modes(settings)
    return chosen.stem[len("sijil-"):]
