"""Contract-driven ingestion: agency files → raw and quarantine tables, reconciled per file."""

from assets.ingestion.assets import build_ingestion_assets

__all__ = ["build_ingestion_assets"]
