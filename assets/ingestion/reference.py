"""The profile's reference data as warehouse tables, so dbt models read configuration as data."""


import dagster as dg
import pandas as pd

from assets.profiles import Profile
from assets.text.arabic import normalize_name
from assets.warehouse import Warehouse


def reference_frames(profile: Profile) -> dict[str, pd.DataFrame]:
    """ref_governorates, ref_governorate_aliases, ref_programmes, ref_identifier_types."""
    size = float(profile.mean_household_size)
    governorates = pd.DataFrame([{
        "code": g["code"], "name_en": g["name_en"], "name_ar": g["name_ar"],
        "population": int(g["population_k"] * 1000), "households": int(round(g["population_k"] * 1000 / size)),
    } for g in profile.governorates])
    aliases = []
    for g in profile.governorates:
        for alias in {g["code"], g["name_en"], g["name_ar"], *g.get("aliases", [])}:
            aliases.append({"alias_norm": normalize_name(str(alias)), "code": g["code"]})
    aliases = pd.DataFrame(aliases).drop_duplicates()
    clash = aliases.groupby("alias_norm")["code"].nunique()
    if (clash > 1).any():
        raise ValueError(f"profile {profile.code}: governorate aliases name two governorates: {sorted(clash[clash > 1].index)}")
    identifiers = pd.DataFrame([{"id_type": k, "label_en": v["label_en"], "label_ar": v["label_ar"],
                                 "pattern": v["pattern"], "country_code": v.get("country_code")}
                                for k, v in profile.identifiers.items()])
    programmes = pd.DataFrame(profile.programmes()).replace({"": None})
    return {"ref_governorates": governorates, "ref_governorate_aliases": aliases,
            "ref_programmes": programmes, "ref_identifier_types": identifiers}


def build_reference_asset(profile: Profile) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["raw", "profile_reference"]),
        group_name="raw",
        kinds={"python", "duckdb"},
        pool="duckdb_writer",
        description=("The country profile's reference tables (governorates and their spellings, programmes, "
                     "identifier types) loaded from config/profiles/<profile>/.\n\n"
                     "جداول مرجعية من ملف تعريف الدولة: المحافظات وتهجئاتها، البرامج، أنواع المعرّفات."),
    )
    def profile_reference(warehouse: Warehouse) -> dg.MaterializeResult:
        frames = reference_frames(profile)
        with warehouse.connect() as con:
            con.execute("begin transaction")
            for name, frame in frames.items():
                con.register("_ref", frame)
                con.execute(f"create or replace table raw.{name} as select * from _ref")
                con.unregister("_ref")
            con.execute("commit")
        return dg.MaterializeResult(metadata={
            "profile": profile.code,
            **{f"{name}_rows": dg.MetadataValue.int(len(f)) for name, f in frames.items()},
            "dagster/row_count": dg.MetadataValue.int(sum(len(f) for f in frames.values())),
        })

    return profile_reference
