"""Who may open which file: the operating system's permissions are Sijil's access control.

The engineering warehouse (names, national numbers, phones), its kept versions, the builds, the
working copy and the secrets folder (a generated pseudonymisation key, the pseudonym store) are
readable by the service account alone. The analytics warehouse and the reports are what M&E
officers open: readable by every account on the machine, writable by none but the service
account (and every reader opens the analytics file read-only). An analyst's account can
therefore reach `analytics.duckdb` but not `sijil.duckdb`.
"""

from __future__ import annotations

import os
from pathlib import Path

from assets.settings import Settings

PRIVATE_FILE = 0o600  # service account: read and write; nobody else
PRIVATE_DIR = 0o700
SHARED_FILE = 0o644  # everyone may read; only the service account writes
SHARED_DIR = 0o755


def _chmod(path: Path, mode: int) -> None:
    if path.exists() and not path.is_symlink():
        os.chmod(path, mode)


def _private_tree(directory: Path) -> None:
    if not directory.is_dir():
        return
    _chmod(directory, PRIVATE_DIR)
    for path in directory.rglob("*"):
        _chmod(path, PRIVATE_DIR if path.is_dir() else PRIVATE_FILE)


def apply_access_modes(settings: Settings) -> None:
    """Set the modes above on the published files; called after every publish and rollback."""
    from assets.publish.pseudonyms import pseudonym_store_path
    from assets.publish.wap import analytics_path, builds_dir, reports_path, versions_dir

    warehouse_dir = settings.published_warehouse.parent
    _chmod(warehouse_dir, SHARED_DIR)  # analysts must reach analytics.duckdb inside it
    for path in warehouse_dir.glob(settings.published_warehouse.name + "*"):  # the file and any .wal
        _chmod(path, PRIVATE_FILE)
    _chmod(warehouse_dir / "refresh.lock", PRIVATE_FILE)
    for directory in (versions_dir(settings), builds_dir(settings), pseudonym_store_path(settings).parent):
        _private_tree(directory)
    if settings.warehouse.parent != warehouse_dir and settings.warehouse.parent.parent == warehouse_dir:
        _private_tree(settings.warehouse.parent)  # the UI's working copy (data/warehouse/work/)
    _chmod(analytics_path(settings), SHARED_FILE)
    reports = reports_path(settings)
    if reports.is_dir():
        _chmod(reports, SHARED_DIR)
        for path in reports.iterdir():
            _chmod(path, SHARED_FILE)
