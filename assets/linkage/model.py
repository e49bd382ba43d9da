"""The Splink model: features, comparisons, blocking, training, and its versioned JSON.

Every fuzzy comparison runs on ASCII forms (DuckDB's string distances count bytes): the
1:1 transliteration within a script, the consonant skeleton across scripts. (Comparison SQL names the two
records' columns <col>_l and <col>_r; blocking rules name them l.<col> and r.<col>.) First name and
birth date discriminate; father, grandfather and family names are folded into one lineage
comparison (siblings share them); the household phone counts only together with the same first
name, so a phone shared by siblings links no one. Lists of given and family names only (most
Latin-script files) may swap the two: `name_order` reads that. The national number and the birth
date veto a link only where the trained model finds them reliable (`config_for_model`).
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from assets.errors import SijilError
from assets.settings import CONFIG_DIR

if TYPE_CHECKING:
    import pyarrow as pa

# The columns the model reads, computed from intermediate.int_person_mentions.
FEATURES_SQL = """
select
    mention_id as unique_id,
    source as source_dataset,
    -- a number on more records than one person may have (max_records_per_number) is a form's default
    -- or a clerk's filler, not a person's: compared as no number, rather than blocking its bearers together
    case when count(national_id) over (partition by national_id) <= {max_records_per_number} then national_id end
        as national_id,
    case when other_id is not null then other_id_type || ':' || other_id end as other_id,
    first_name_translit as first_t, first_name_skeleton as first_s,
    father_name_translit as father_t, father_name_skeleton as father_s,
    grandfather_name_skeleton as grandfather_s,
    family_name_translit as family_t, family_name_skeleton as family_s,
    -- loose skeletons fold the letters romanisations disagree on (arabic.loose_skeleton)
    first_name_loose as first_loose, father_name_loose as father_loose, family_name_loose as family_loose,
    nullif(concat_ws(' ', father_name_skeleton, family_name_skeleton), '') as lineage_s,
    case when father_name_skeleton is not null and grandfather_name_skeleton is not null and family_name_skeleton is not null
         then concat_ws(' ', father_name_skeleton, grandfather_name_skeleton, family_name_skeleton) end as lineage_full,
    name_script,
    cast(birth_date as date) as birth_date,
    year(birth_date) as birth_year,
    strftime(birth_date, '%Y%m%d') as birth_str,
    coalesce(birth_date_is_jan1, false) as is_jan1,
    sex,
    phone,
    -- where the person lives, when the source says: compared as one piece of evidence (location)
    address_translit as address_t, locality_translit as locality_t, locality_key, postcode,
    governorate_code as governorate,
    -- how many records share a blocking key: for blocking only (config/linkage.yaml's
    -- grandfathers_agree and lineage_agrees bound the blocks of common keys), not compared,
    -- not part of a fingerprint
    count(*) over (partition by first_name_skeleton, father_name_skeleton, family_name_skeleton) as same_name_records,
    count(*) over (partition by first_name_loose, birth_date) as same_first_name_date_records
from {table}
"""


def features_sql(config: dict, table: str = "intermediate.int_person_mentions") -> str:
    """FEATURES_SQL over the mentions of `table`, with the linkage config's limits."""
    return FEATURES_SQL.format(table=table, max_records_per_number=int(config["max_records_per_number"]))


def mention_features(con, config: dict, table: str = "intermediate.int_person_mentions") -> pa.Table:
    """FEATURES_SQL's columns of every mention of `table`, as Arrow: computed once for everything
    a step reads them for (their window counts take 3.5 s at 1,000,000 persons). The warehouse
    connection reads them as a registered view and Splink's connections read them without a
    copy; a temporary table was a second copy in memory (0.5 GB at 2 million mentions)."""
    return con.sql(features_sql(config, table)).to_arrow_table()


# Features that only choose which pairs are compared: a new record changes them for others,
# which must not make those others count as changed (mode.fingerprints_sql leaves them out).
BLOCKING_ONLY_FEATURES = ("same_name_records", "same_first_name_date_records")


def load_config(path: Path | None = None) -> dict:
    return yaml.safe_load((path or CONFIG_DIR / "linkage.yaml").read_text(encoding="utf-8"))


def _rule(rule):
    from splink import block_on

    return block_on(*rule) if isinstance(rule, list) else rule


def rule_sql(rule) -> str:
    """A blocking rule of config/linkage.yaml as SQL on l.<col> and r.<col> (a list of columns
    means all of them equal, as Splink's block_on)."""
    return " and ".join(f"l.{column} = r.{column}" for column in rule) if isinstance(rule, list) else rule


def prediction_rules(config: dict) -> list:
    """config/linkage.yaml's prediction rules, each a list of columns or SQL. A `both_ways` rule
    names its two records {a} and {b} where it is not symmetric and becomes two rules, one with
    {a} the left record, one with {a} the right: a condition on one record then filters that side
    before the join, which a condition on either record (`l.x is null or r.x is null`) cannot.
    A rule names a condition of `blocking_conditions` in braces ({numbers_agree})."""
    conditions = config.get("blocking_conditions") or {}
    rules = []
    for rule in config["blocking_rules"]:
        if isinstance(rule, dict):
            rules += [rule["both_ways"].format(a="l", b="r", **conditions),
                      rule["both_ways"].format(a="r", b="l", **conditions)]
        else:
            rules.append(rule.format(**conditions) if isinstance(rule, str) else rule)
    return rules


def blocking_rules(config: dict) -> list:
    """The prediction blocking rules, as Splink objects."""
    return [_rule(r) for r in prediction_rules(config)]


# A given name written in the family name's place and the family name in the given name's (a
# list of given and family names that writes the family name first): a comparison of its own,
# `name_order`, between records with a first and a family name and no father's name (in names of
# four parts the swap is the father's and the first, a level of the first name). Not a level of
# the first-name and lineage comparisons: a level that registries' records all but never reach
# keeps Splink sampling u for its comparison up to the cap, and those u values moved (1,000,000
# persons: F1 without a national number 0.9349 → 0.9283 with such levels).
SWAPPED_FIRST_AND_FAMILY = "first_s_l = family_s_r and family_s_l = first_s_r"
NAME_ORDER_APPLIES = " and ".join(f"{c}_{side} is not null" for c in ("first_s", "family_s") for side in "lr") + \
    " and father_s_l is null and father_s_r is null"


def comparisons() -> list:
    """The model's comparisons, from Splink's comparison library."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    same_script = "name_script_l = name_script_r"

    def frequent(level, column: str):
        """The level's weight adjusted to how common the shared value is (Splink's term
        frequencies): a common lineage such as 'محمد محمد الزعبي' agreeing says less than a
        rare one. (First names are left without: most people share a handful of them, and the
        lineage and birth date already tell their bearers apart.)"""
        return level.configure(tf_adjustment_column=column, tf_adjustment_weight=1.0,
                               disable_tf_exact_match_detection=True)

    # First names that could be one name written twice (any script, spelling or slip).
    first_close = ("(first_s_l = first_s_r or first_loose_l = first_loose_r "
                   "or jaro_winkler_similarity(first_loose_l, first_loose_r) >= 0.85)")
    return [
        cl.CustomComparison(output_column_name="national_id", comparison_levels=[
            cll.NullLevel("national_id"),
            cll.ExactMatchLevel("national_id"),
            cll.CustomLevel("levenshtein(national_id_l, national_id_r) <= 1", label_for_charts="one digit differs"),
            cll.ElseLevel(),
        ]),
        # Levels are split by whether both records are in one script: a spelling variant within
        # a script and a romanisation across scripts are different evidence.
        cl.CustomComparison(output_column_name="first_name", comparison_levels=[
            cll.NullLevel("first_s"),
            cll.CustomLevel(f"first_t_l = first_t_r and {same_script}", label_for_charts="same spelling"),
            cll.CustomLevel(f"first_s_l = first_s_r and not {same_script}", label_for_charts="same skeleton across scripts"),
            cll.CustomLevel(f"first_loose_l = first_loose_r and not {same_script}", label_for_charts="same loose skeleton across scripts"),
            cll.CustomLevel(f"first_s_l = first_s_r and {same_script}", label_for_charts="spelling variant (same skeleton)"),
            cll.CustomLevel(f"{same_script} and jaro_winkler_similarity(first_t_l, first_t_r) >= 0.9",
                            label_for_charts="close spelling"),
            cll.CustomLevel("jaro_winkler_similarity(first_loose_l, first_loose_r) >= 0.85", label_for_charts="close skeleton"),
            cll.CustomLevel("first_s_l = father_s_r and father_s_l = first_s_r", label_for_charts="first and father swapped"),
            cll.ElseLevel(),
        ]),
        cl.CustomComparison(output_column_name="lineage", comparison_levels=[
            cll.NullLevel("lineage_s"),
            # Siblings share father, grandfather and family (twins the birth date too): the same
            # parents with a different first name is its own, weaker evidence, so that the lineage
            # and the birth date, which move together in a family, cannot outvote the first name.
            cll.CustomLevel(f"father_s_l = father_s_r and family_s_l = family_s_r and not {first_close}",
                            label_for_charts="same parents, different first name (siblings' pattern)"),
            frequent(cll.CustomLevel("lineage_full_l = lineage_full_r", label_for_charts="father, grandfather and family"),
                     "lineage_full"),
            frequent(cll.CustomLevel("father_s_l = father_s_r and family_s_l = family_s_r",
                                     label_for_charts="father and family (grandfather missing or different)"), "lineage_s"),
            cll.CustomLevel(f"father_loose_l = father_loose_r and family_loose_l = family_loose_r and not {same_script}",
                            label_for_charts="father and family across scripts (loose skeletons)"),
            cll.CustomLevel("family_loose_l = family_loose_r and (father_s_l is null or father_s_r is null)",
                            label_for_charts="family name, father's name missing"),
            cll.CustomLevel("jaro_winkler_similarity(lineage_s_l, lineage_s_r) >= 0.9", label_for_charts="close lineage"),
            cll.CustomLevel("family_s_l = family_s_r or father_s_l = father_s_r", label_for_charts="one lineage name"),
            cll.ElseLevel(),
        ]),
        cl.CustomComparison(output_column_name="birth_date", comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.CustomLevel("birth_date_l = birth_date_r and not (is_jan1_l and is_jan1_r)", label_for_charts="same date"),
            cll.CustomLevel("birth_date_l = birth_date_r", label_for_charts="same 1 January placeholder"),
            cll.CustomLevel("birth_year_l = birth_year_r and month(birth_date_l) = day(birth_date_r) "
                            "and day(birth_date_l) = month(birth_date_r)", label_for_charts="day and month swapped"),
            cll.CustomLevel("levenshtein(birth_str_l, birth_str_r) <= 1", label_for_charts="one digit differs"),
            cll.CustomLevel("birth_year_l = birth_year_r and (is_jan1_l or is_jan1_r)", label_for_charts="year only"),
            cll.CustomLevel("abs(datediff('day', birth_date_l, birth_date_r)) <= 366", label_for_charts="within a year"),
            cll.ElseLevel(),
        ]),
        # The household phone is evidence only together with the same first name: siblings
        # share the phone but never the first name, so a shared phone alone links no one.
        cl.CustomComparison(output_column_name="contact", comparison_levels=[
            cll.CustomLevel("phone_l is null or phone_r is null or first_s_l is null or first_s_r is null")
            .configure(is_null_level=True),
            cll.CustomLevel("phone_l = phone_r and first_s_l = first_s_r", label_for_charts="same phone and first name"),
            cll.ElseLevel(),
        ]),
        # Where the person lives, one comparison so that an address and its locality are not
        # counted twice; the closest level both records allow. A household's address is shared
        # by its members, like the phone, so it never outweighs a first name and a birth date.
        cl.CustomComparison(output_column_name="location", comparison_levels=[
            cll.CustomLevel(" and ".join(f"({c}_l is null or {c}_r is null)"
                                         for c in ("address_t", "locality_key", "postcode", "governorate")))
            .configure(is_null_level=True),  # nothing that both records have
            cll.CustomLevel("address_t_l = address_t_r", label_for_charts="same address"),
            cll.CustomLevel("jaro_winkler_similarity(address_t_l, address_t_r) >= 0.9", label_for_charts="close address"),
            cll.CustomLevel("locality_key_l = locality_key_r and postcode_l = postcode_r",
                            label_for_charts="same locality and postal code"),
            cll.CustomLevel("locality_key_l = locality_key_r or postcode_l = postcode_r",
                            label_for_charts="same locality or postal code"),
            cll.CustomLevel("governorate_l = governorate_r", label_for_charts="same governorate"),
            cll.ElseLevel(),
        ]),
        cl.CustomComparison(output_column_name="name_order", comparison_levels=[
            cll.CustomLevel(f"not ({NAME_ORDER_APPLIES})").configure(is_null_level=True),
            cll.CustomLevel(SWAPPED_FIRST_AND_FAMILY, label_for_charts="first and family names swapped"),
            cll.ElseLevel(),
        ]),
        cl.CustomComparison(output_column_name="sex", comparison_levels=[
            cll.NullLevel("sex"), cll.ExactMatchLevel("sex"), cll.ElseLevel()]),
        # Other identifiers (a UNHCR case number) belong to a family, like the phone: evidence
        # only together with a close first name.
        cl.CustomComparison(output_column_name="other_id", comparison_levels=[
            cll.NullLevel("other_id"),
            cll.CustomLevel(f"other_id_l = other_id_r and {first_close}", label_for_charts="same family identifier and first name"),
            cll.ElseLevel(),
        ]),
    ]


def settings(config: dict):
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=blocking_rules(config),
        retain_intermediate_calculation_columns=True,  # per-comparison match weights, for the review queue
        retain_matching_columns=False,
        additional_columns_to_retain=["source_dataset"],
    )


# The comparisons on whose disagreement a rule takes two records for two people (the national
# number: numbers_agree; the birth date: conflicts), if the trained model finds that holds in
# these records (config/linkage.yaml, `vetoes`).
VETOES = ("national_id", "birth_date")


def unreliable_fields(splink_settings: dict, config: dict) -> list[str]:
    """The comparisons of VETOES on which, by the trained model, one person's records disagree
    more often than config's vetoes.max_m: the m probability of the comparison's last level
    ("All other comparisons"), the share of matching pairs whose values are neither equal nor
    one slip apart."""
    limit = float(config["vetoes"]["max_m"])
    unreliable = []
    for comparison in splink_settings["comparisons"]:
        if comparison["output_column_name"] in VETOES:
            m = comparison["comparison_levels"][-1].get("m_probability")
            if m is not None and m > limit:
                unreliable.append(comparison["output_column_name"])
    return sorted(unreliable)


def config_for_model(config: dict, splink_settings: dict) -> dict:
    """`config` with the vetoes the model finds unreliable lifted: national numbers that do not
    tell people apart stop keeping name rules from comparing two records (numbers_agree is
    always true), and birth dates that do not stop splitting clusters (no conflicts)."""
    lifted = unreliable_fields(splink_settings, config)
    if not lifted:
        return config
    config = copy.deepcopy(config)
    if "national_id" in lifted:
        config["blocking_conditions"]["numbers_agree"] = "true"
    if "birth_date" in lifted:
        config["conflicts"]["birth_years_apart"] = None
    return config


def with_prediction_rules(splink_settings: dict, config: dict) -> dict:
    """Trained `splink_settings` whose prediction blocking rules are config_for_model's."""
    rules = settings(config_for_model(config, splink_settings)).create_settings_dict(sql_dialect_str="duckdb")
    return {**splink_settings,
            "blocking_rules_to_generate_predictions": rules["blocking_rules_to_generate_predictions"]}


def saved_config(config: dict, model_path: Path) -> dict:
    """config_for_model for the model saved at `model_path` (config itself when there is none)."""
    if not model_path.exists():
        return config
    return config_for_model(config, json.loads(model_path.read_text(encoding="utf-8"))["splink_settings"])


# Why a saved model no longer fits: what model_version hashes changed since it was trained.
MODEL_OUT_OF_DATE = ("config/linkage.yaml, the features, the name rules or the country profile changed since the "
                     "model was trained")


def model_version(config: dict) -> str:
    """Version of a model: its Splink settings (comparisons, blocking), training settings, the
    vetoes it may lift (its saved blocking rules depend on them), the features it reads (their
    SQL and the name rules behind them), and the country profile whose registries it learns from.
    A change to any of them retrains; new data alone does not. The profile: one profile's model
    scoring another's registries (one SIJIL_HOME, the profile switched) kept the first's m for a
    different governorate, where no one person's records differ (-17 bits), on records where all
    the displaced persons' do: F1 0.9135 at 20,000 persons, 0.5438 without a national number,
    where the profile's own model gives 0.9883 and 0.9548 (README, "Linkage")."""
    from assets.settings import get_settings
    from assets.text.duckdb_sql import macros_sql

    splink_settings = settings(config).create_settings_dict(sql_dialect_str="duckdb")
    text = json.dumps({"splink": splink_settings, "training": config["training"], "vetoes": config["vetoes"],
                       "features": features_sql(config), "name_rules": macros_sql(),
                       "profile": get_settings().profile}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def pairs_carrying(con, table: str, null_condition: str, seed: int) -> float:
    """The share of random pairs of `table`'s records that a comparison can judge: pairs its null
    level (`null_condition`, over <col>_l and <col>_r) does not take. Each record is paired with
    the record half the table away in a hash order of its own: every record once on each side."""
    columns = [r[0] for r in con.execute(f"select column_name from (describe {table})").fetchall()]
    sides = ", ".join(f'{side}."{c}" as "{c}_{side}"' for c in columns for side in ("l", "r"))
    share = con.execute(f"""
        with ranked as (select *, row_number() over (order by hash(unique_id, {seed}), unique_id) - 1 as rn_,
                               count(*) over () as n_ from {table})
        select avg(case when {null_condition} then 0.0 else 1.0 end)
        from (select {sides} from ranked l join ranked r on r.rn_ = (l.rn_ + l.n_ // 2) % l.n_ where l.n_ > 1)
        """).fetchall()[0][0]
    return float(share or 0.0)


def bound_unseen_u(linker, con, table: str, config: dict) -> list[dict]:
    """After training: give a u to every level whose m EM trained but that random sampling never
    reached, and return them.

    Splink keeps no u for such a level ("not observed"), and the saved model has none, so it
    scores the level with Splink's generic default (u 0.00093 for an exact match): the household
    phone with the same first name, reached by chance twice in 60 M pairs (about 18 bits), weighed
    10 bits in a model where chance reached it no time, and records without a national number
    lost a sixth of their recall. None seen in n pairs the comparison can judge puts u below
    `u_unseen_bound` / n (3: the 95 % bound, the rule of three); n is the pairs Splink sampled
    (all of them when the records make fewer than u_max_pairs) times the share of pairs that
    carry the comparison's values. A level EM found no matching pair for either keeps Splink's
    defaults: nothing in these records says how often one person's records reach it."""
    t = config["training"]
    records = con.execute(f"select count(*) from {table}").fetchall()[0][0]
    sampled = min(float(t["u_max_pairs"]), records * (records - 1) / 2)
    bounded = []
    for comparison in linker._settings_obj.comparisons:
        unseen = [level for level in comparison.comparison_levels
                  if not level.is_null_level and not level._has_estimated_u_values and level._m_is_trained]
        if not unseen:
            continue
        null_levels = [level for level in comparison.comparison_levels if level.is_null_level]
        pairs = sampled * (pairs_carrying(con, table, null_levels[0].sql_condition, int(t["seed"]))
                           if null_levels else 1.0)
        if pairs < 1:
            continue  # these records (almost) never carry what the comparison reads
        for level in unseen:
            level.u_probability = min(float(t["u_unseen_bound"]) / pairs, 1.0)
            bounded.append({"comparison": comparison.output_column_name, "level": level.label_for_charts,
                            "u_probability": level.u_probability, "pairs": round(pairs)})
    return bounded


def train(linker, config: dict, con, table: str) -> tuple[list[str], list[dict]]:
    """EM training without labels: λ from deterministic rules, u by sampling, m by EM, on the
    records of `table` (in `con`, the linker's connection).

    A training rule that finds no pairs in these records (no identifier column, say), or whose
    pairs drive a level's m or u to exactly zero (small files: Splink refuses the value and leaves
    the model as it was before that pass), is skipped. At least one EM pass must run. Then a level
    random sampling never reached, where EM trained its m, gets a u bounded by the pairs sampled
    (:func:`bound_unseen_u`); these bounds are returned with the skipped rules.

    A failing pass has already removed, in place, the comparisons its blocking rule fixes
    from the linker's settings (Splink restores them only when a pass succeeds), so the
    settings from before the pass are put back."""
    from splink.internals.exceptions import EMTrainingException

    t = config["training"]
    for rules in (t["deterministic_rules"], t["deterministic_rules_without_numbers"]):
        linker.training.estimate_probability_two_random_records_match(rules, recall=float(t["deterministic_recall"]))
        if linker._settings_obj._probability_two_random_records_match > 0:
            break
    else:
        raise SijilError("the linkage cannot be trained: no two records share a national number, nor the whole name "
                         "and birth date (training.deterministic_rules and deterministic_rules_without_numbers in "
                         "config/linkage.yaml)")
    linker.training.estimate_u_using_random_sampling(max_pairs=float(t["u_max_pairs"]), seed=int(t["seed"]),
                                                     min_count_per_level=int(t.get("u_min_count_per_level", 100)))
    skipped = []
    for rule in t["em_blocking_rules"]:
        before = linker._settings_obj.core_model_settings.copy()
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                _rule(rule), max_pairs=float(t["em_max_pairs"]))
        except (EMTrainingException, ValueError) as error:
            if isinstance(error, ValueError) and "probability value" not in str(error):
                raise
            linker._settings_obj.core_model_settings = before
            skipped.append(str(rule))
    if len(skipped) == len(t["em_blocking_rules"]):
        raise EMTrainingException("no EM training rule found record pairs: the records share no names or identifiers")
    return skipped, bound_unseen_u(linker, con, table, config)
