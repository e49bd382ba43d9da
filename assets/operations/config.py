"""config/operations.yaml: the schedules, the inbox sensor, retries, alerts and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from assets.errors import SijilError
from assets.settings import Settings, get_settings


@dataclass(frozen=True)
class OperationsConfig:
    cron: str
    timezone: str
    linkage_retraining_cron: str
    sensor_interval_seconds: int
    settle_seconds: float
    max_retries: int
    retry_delay_seconds: float
    alert_channel: str
    alert_path: str
    audit_path: str
    monthly_start: str

    def alert_file(self, settings: Settings) -> Path:
        return settings.home / self.alert_path

    def audit_file(self, settings: Settings) -> Path:
        return settings.home / self.audit_path


def load_operations_config(path: Path | None = None) -> OperationsConfig:
    path = path or get_settings().operations_config  # SIJIL_OPERATIONS_CONFIG, else config/operations.yaml
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        config = OperationsConfig(
            cron=str(raw["schedule"]["cron"]),
            timezone=str(raw["schedule"].get("timezone", "UTC")),
            linkage_retraining_cron=str(raw["schedule"]["linkage_retraining_cron"]),
            sensor_interval_seconds=int(raw["inbox_sensor"]["minimum_interval_seconds"]),
            settle_seconds=float(raw["inbox_sensor"].get("settle_seconds", 30)),
            max_retries=int(raw["retries"]["max_retries"]),
            retry_delay_seconds=float(raw["retries"]["delay_seconds"]),
            alert_channel=str(raw["alerts"]["channel"]),
            alert_path=str(raw["alerts"]["path"]),
            audit_path=str(raw["audit"]["path"]),
            monthly_start=str(raw["partitions"]["monthly_start"]),
        )
    except (KeyError, TypeError) as exc:
        raise SijilError(f"{path}: missing setting {exc}") from exc
    if config.alert_channel != "file":
        raise SijilError(f"{path}: alerts.channel {config.alert_channel!r} is not supported (use 'file')")
    for name, cron in (("cron", config.cron), ("linkage_retraining_cron", config.linkage_retraining_cron)):
        if len(cron.split()) != 5:
            raise SijilError(f"{path}: schedule.{name} {cron!r} is not a five-field cron expression")
    return config
