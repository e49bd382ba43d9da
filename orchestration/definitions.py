"""The Dagster code location: every asset, check, resource and automation of Sijil.

Loaded lazily (``@dg.definitions``), so the profile and settings are read when Dagster loads
the code location, not when this module is imported.
"""

from __future__ import annotations

import dagster as dg

from assets.profiles import load_profile
from assets.settings import get_settings
from assets.warehouse import Warehouse


def build_definitions(profile_code: str | None = None) -> dg.Definitions:
    """All of Sijil for one country profile (SIJIL_PROFILE by default)."""
    from assets.ingestion import build_ingestion_assets
    from assets.linkage import build_linkage_assets
    from assets.monitoring import build_monitoring_assets
    from orchestration.automation import build_operations_definitions, follow_inputs
    from orchestration.dbt import build_dbt_definitions
    from quality.checks import build_quality_checks
    from quality.trust import build_trust_assets
    from quality.volume import build_volume_checks

    settings = get_settings()
    profile = load_profile(profile_code or settings.profile)
    python_defs = [*build_ingestion_assets(profile), *build_linkage_assets(profile), *build_trust_assets(profile),
                   *build_volume_checks(profile), *build_monitoring_assets(profile), *build_quality_checks(profile)]
    dbt_defs = build_dbt_definitions(profile, {key for a in python_defs if isinstance(a, dg.AssetsDefinition)
                                               for key in a.keys})
    # Global policy: every asset below ingestion follows its inputs (dbt models: the translator).
    python_assets = dg.map_asset_specs(follow_inputs, [a for a in python_defs if not isinstance(a, dg.AssetChecksDefinition)])
    return dg.Definitions.merge(
        dg.Definitions(
            assets=python_assets,
            asset_checks=[c for c in python_defs if isinstance(c, dg.AssetChecksDefinition)],
            resources={"warehouse": Warehouse()},
            executor=dg.in_process_executor,
        ),
        dbt_defs,
        build_operations_definitions(profile, [a for a in dbt_defs.assets if getattr(a, "partitions_def", None)]),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
