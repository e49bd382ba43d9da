"""Arabic-aware record linkage with Splink: master persons and households across agencies.

`build_linkage_assets` is imported on first use, so that `sijil dedupe` and the linkage
modules load without Dagster."""


def __getattr__(name: str):
    if name == "build_linkage_assets":
        from assets.linkage.assets import build_linkage_assets

        return build_linkage_assets
    raise AttributeError(name)


__all__ = ["build_linkage_assets"]
