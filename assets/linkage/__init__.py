"""Arabic-aware record linkage with Splink: master persons and households across agencies."""

from assets.linkage.assets import build_linkage_assets

__all__ = ["build_linkage_assets"]
