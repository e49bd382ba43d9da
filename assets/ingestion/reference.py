"""The profile's reference data as warehouse tables, so dbt models read configuration as data."""


import dagster as dg
import pandas as pd

from assets.monitoring.catalogue import catalogue_frames, catalogue_path, load_catalogue
from assets.operations.retries import final_unless_transient, transient_retry_policy
from assets.profiles import Profile
from assets.text.arabic import normalize_name
from assets.warehouse import Warehouse


def reference_frames(profile: Profile) -> dict[str, pd.DataFrame]:
    """ref_governorates, ref_governorate_aliases, ref_programmes, ref_identifier_types, and the
    indicator catalogue (ref_indicators, ref_indicator_disaggregations, ref_indicator_targets,
    ref_pillars)."""
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
            "ref_programmes": programmes, "ref_identifier_types": identifiers,
            **catalogue_frames(load_catalogue(catalogue_path(profile)))}


REFERENCE_TABLES = {
    "ref_governorates": "Governorates with Arabic and English names and population | المحافظات وعدد السكان",
    "ref_governorate_aliases": "Every spelling of a governorate, normalised, and its code | تهجئات المحافظات ورموزها",
    "ref_programmes": "The profile's programme catalogue | دليل البرامج",
    "ref_identifier_types": "Identifier types and their formats | أنواع المعرّفات وصيغها",
    "ref_indicators": "The monitoring indicator catalogue | دليل مؤشرات المتابعة",
    "ref_indicator_disaggregations": "Disaggregations published per indicator | التصنيفات المنشورة لكل مؤشر",
    "ref_indicator_targets": "Annual targets per indicator to 2033 | المستهدفات السنوية حتى 2033",
    "ref_pillars": "Strategy pillars | محاور الاستراتيجية",
}


def build_reference_asset(profile: Profile) -> dg.AssetsDefinition:
    """The profile's reference tables, loaded from config/profiles/<profile>/ in one step."""
    specs = [dg.AssetSpec(["raw", name], group_name="raw", kinds={"python", "duckdb"},
                          description=f"{text}\n\nFrom config/profiles/{profile.code}/.")
             for name, text in REFERENCE_TABLES.items()]

    @dg.multi_asset(specs=specs, name="load_profile_reference", pool="duckdb_writer",
                    retry_policy=transient_retry_policy())
    @final_unless_transient
    def profile_reference(warehouse: Warehouse):
        frames = reference_frames(profile)
        with warehouse.connect() as con:
            con.execute("begin transaction")
            for name, frame in frames.items():
                con.register("_ref", frame)
                con.execute(f"create or replace table raw.{name} as select * from _ref")
                con.unregister("_ref")
            con.execute("commit")
        for name, frame in frames.items():
            yield dg.MaterializeResult(asset_key=["raw", name], metadata={
                "profile": profile.code, "dagster/row_count": dg.MetadataValue.int(len(frame))})

    return profile_reference
