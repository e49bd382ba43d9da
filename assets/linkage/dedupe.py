"""`sijil dedupe`: link and deduplicate person records in any files, with the registry's model.

Each file's columns are mapped to roles; the records are brought to the shape of
int_person_mentions with the same text macros, and linked by the same code as the pipeline
(`link_mentions`), trained on these records alone.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from assets.errors import SijilError
from assets.ingestion.decode import detect_encoding
from assets.linkage.model import load_config
from assets.linkage.run import link_mentions
from assets.text.duckdb_sql import install_text_macros

ROLES = ("national_id", "first_name", "father_name", "grandfather_name", "family_name", "full_name", "birth_date",
         "sex", "phone", "address", "locality", "postcode", "governorate")
# Formats tried in order; day-first forms before month-first, as registries in the region write them.
DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d", "%d.%m.%Y", "%m/%d/%Y", "%d/%m/%y")


def read_any(path: Path) -> pd.DataFrame:
    """A CSV (any supported encoding), Excel or Parquet file as text columns."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls"):
        return pd.read_excel(path, dtype=str)
    if suffix == ".parquet":
        return pd.read_parquet(path).astype("string")
    return pd.read_csv(path, dtype=str, encoding=detect_encoding(path), keep_default_na=False).replace({"": None})


def _date_sql(column: str) -> str:
    tries = ", ".join(f"try_strptime(trim(sj_digits({column})), '{fmt}')" for fmt in DATE_FORMATS)
    return (f"(case when try_cast(coalesce({tries}) as date) between date '1880-01-01' and current_date "
            f"then try_cast(coalesce({tries}) as date) end)")


def mentions_sql(has_parts: bool) -> str:
    """SQL turning the `records` table (role columns) into the int_person_mentions shape."""
    def part(i: int, name: str) -> str:
        return f"coalesce(sj_norm_name({name}), sj_name_part(full_name, {i}))" if has_parts else f"sj_name_part(full_name, {i})"

    return f"""
    create or replace table intermediate.int_person_mentions as
    with named as (
        select *,
            {part(1, 'first_name')} as first_name_norm,
            {part(2, 'father_name')} as father_name_norm,
            {part(3, 'grandfather_name')} as grandfather_name_norm,
            {part(4, 'family_name')} as family_name_norm,
            {_date_sql('birth_date')} as birth_date_parsed
        from records
    )
    select
        input || ':' || record_id as mention_id, input as source, 'file' as entity, record_id as record_key,
        null::varchar as household_ref,
        sj_clean_id(national_id, '^[0-9A-Z]{{5,20}}$') as national_id,
        null::varchar as other_id_type, null::varchar as other_id,
        coalesce(full_name, concat_ws(' ', first_name, father_name, grandfather_name, family_name)) as full_name,
        first_name_norm, father_name_norm, grandfather_name_norm, family_name_norm,
        sj_translit(first_name_norm) as first_name_translit, sj_translit(father_name_norm) as father_name_translit,
        sj_translit(grandfather_name_norm) as grandfather_name_translit, sj_translit(family_name_norm) as family_name_translit,
        sj_skeleton(first_name_norm) as first_name_skeleton, sj_skeleton(father_name_norm) as father_name_skeleton,
        sj_skeleton(grandfather_name_norm) as grandfather_name_skeleton, sj_skeleton(family_name_norm) as family_name_skeleton,
        case when regexp_matches(coalesce(first_name_norm, '') || coalesce(family_name_norm, ''), '[ء-ي]') then 'ar' else 'latin' end as name_script,
        birth_date_parsed as birth_date,
        (month(birth_date_parsed) = 1 and day(birth_date_parsed) = 1) as birth_date_is_jan1,
        case when lower(trim(sex)) in ('m', 'male', 'ذكر', '1') then 'M'
             when lower(trim(sex)) in ('f', 'female', 'أنثى', 'انثى', '2') then 'F' end as sex,
        nullif(regexp_replace(sj_digits(phone), '[^0-9]', '', 'g'), '') as phone
    from named
    """


def dedupe_files(inputs: list[Path], id_column: str, roles: dict[str, str], out: Path) -> dict:
    """Cluster the records of `inputs`; write input, record_id, cluster_id, match_probability."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise SijilError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    if not ({"first_name", "full_name"} & set(roles)):
        raise SijilError("map at least first_name or full_name: names are what links people")
    frames = []
    for path in inputs:
        if not path.exists():
            raise SijilError(f"{path}: no such file")
        frame = read_any(path)
        missing = [c for c in [id_column, *roles.values()] if c not in frame.columns]
        if missing:
            raise SijilError(f"{path.name}: no column(s) {', '.join(missing)} (columns: {', '.join(frame.columns)})")
        if frame[id_column].isna().any() or frame[id_column].duplicated().any():
            raise SijilError(f"{path.name}: the id column {id_column!r} must be filled and unique in each file")
        records = pd.DataFrame({"input": path.stem, "record_id": frame[id_column].astype(str)})
        for role in ROLES:
            records[role] = frame[roles[role]].astype("string") if role in roles else pd.Series(pd.NA, index=frame.index, dtype="string")
        frames.append(records)
    records = pd.concat(frames, ignore_index=True)
    if records[["input", "record_id"]].duplicated().any():
        raise SijilError("two inputs share a file name; rename one so the output can tell them apart")

    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "dedupe.duckdb"))
        install_text_macros(con)
        con.execute("create schema intermediate; create schema linkage")
        con.register("records", records)
        con.execute(mentions_sql(has_parts=bool({"first_name", "family_name"} & set(roles))))
        config = load_config()
        if "national_id" not in roles:
            config["training"]["deterministic_rules"] = [
                "l.first_s = r.first_s and l.father_s = r.father_s and l.family_s = r.family_s and l.birth_date = r.birth_date"]
        result = link_mentions(con, config, Path(tmp) / "model.json", retrain=True)
        clusters = con.execute("""
            select m.source as input, m.record_key as record_id, c.master_person_id as cluster_id, c.match_probability
            from intermediate.int_person_mentions m join linkage.person_clusters c using (mention_id)
            order by 1, 2""").df()
        con.close()
    # Records without a name or identifier could not be compared: each is its own cluster.
    unlinked = records.merge(clusters[["input", "record_id"]], how="left", indicator=True)
    unlinked = unlinked[unlinked["_merge"] == "left_only"]
    singles = pd.DataFrame({"input": unlinked["input"], "record_id": unlinked["record_id"],
                            "cluster_id": "UNLINKED:" + unlinked["input"] + ":" + unlinked["record_id"],
                            "match_probability": None})
    output = pd.concat([clusters, singles], ignore_index=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    output.to_csv(out, index=False)
    return {"records": len(output), "clusters": int(output["cluster_id"].nunique()), "pairs_scored": result.pairs_scored}
