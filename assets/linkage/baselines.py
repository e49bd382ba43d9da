"""What a team would otherwise have: the two linkage baselines the benchmark compares Sijil to.

Both read the same person records as Sijil (intermediate.int_person_mentions of a built
warehouse) and are scored against the same ground truth with the same pairwise measure:

- ``exact_national_id``: records with the same national number are one person; a record
  without one is a person of its own.
- ``splink_out_of_the_box``: Splink with the settings a newcomer writes from its tutorial
  (reference/stack_notes.md): Jaro-Winkler on each name part, exact birth date, national
  number, phone and sex; blocking on birth date, first + family name, and phone; EM training;
  clusters at p ≥ 0.9. It gets Sijil's letter normalisation (the *_norm columns) for free, so
  the comparison flatters it, if anything.

Run as ``python -m assets.linkage.baselines NAME WAREHOUSE TRUTH_DIR``: prints the scores as
JSON, so the benchmark can time and measure each baseline in a process of its own.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import duckdb

from assets.linkage.evaluate import pairwise_scores

MENTIONS = "intermediate.int_person_mentions"
OUT_OF_THE_BOX_THRESHOLD = 0.9


def exact_national_id(con: duckdb.DuckDBPyConnection) -> None:
    """Table `baseline_clusters` (mention_id, cluster): one cluster per national number."""
    con.execute(f"""create or replace temp table baseline_clusters as
                    select mention_id, coalesce('nid:' || national_id, 'rec:' || mention_id) as cluster
                    from {MENTIONS}""")


def splink_out_of_the_box(con: duckdb.DuckDBPyConnection) -> None:
    """Table `baseline_clusters` (mention_id, cluster) from Splink's tutorial-style settings."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    records = con.sql(f"""select mention_id as unique_id, national_id, first_name_norm as first_name,
                                 father_name_norm as father_name, grandfather_name_norm as grandfather_name,
                                 family_name_norm as family_name, birth_date, sex, phone
                          from {MENTIONS}""").to_arrow_table()
    work = duckdb.connect()
    db_api = DuckDBAPI(connection=work)
    table = db_api.register(records, table_name="records")
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("first_name"),
            cl.JaroWinklerAtThresholds("father_name"),
            cl.JaroWinklerAtThresholds("grandfather_name"),
            cl.JaroWinklerAtThresholds("family_name"),
            cl.ExactMatch("birth_date"),
            cl.ExactMatch("national_id"),
            cl.ExactMatch("phone"),
            cl.ExactMatch("sex"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("birth_date"), block_on("first_name", "family_name"), block_on("phone")],
    )
    linker = Linker(table, settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match([block_on("national_id")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "family_name"))
    predictions = linker.inference.predict(threshold_match_probability=OUT_OF_THE_BOX_THRESHOLD)
    clusters = cluster_pairwise_predictions_at_threshold(
        nodes=table, edges=predictions, db_api=db_api, node_id_column_name="unique_id",
        threshold_match_probability=OUT_OF_THE_BOX_THRESHOLD)
    con.register("_splink_clusters", work.sql(
        f"select unique_id as mention_id, cluster_id as cluster from {clusters.physical_name}").to_arrow_table())
    con.execute("create or replace temp table baseline_clusters as select * from _splink_clusters")
    con.unregister("_splink_clusters")
    work.close()


BASELINES = {"exact_national_id": exact_national_id, "splink_out_of_the_box": splink_out_of_the_box}


def score_baseline(name: str, warehouse: Path, truth_dir: Path) -> dict:
    """Cluster the warehouse's person records with one baseline and score it against truth."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")
    records = truth_dir / "records.parquet"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        BASELINES[name](con)
        con.execute(f"""create or replace temp view baseline_truth as
                        select m.mention_id, t.person_id as person
                        from {MENTIONS} m
                        join read_parquet('{records.as_posix()}') t
                          on t.source = m.source and t.entity = m.entity and t.record_key = m.record_key""")
        return pairwise_scores(con, "baseline_clusters", "baseline_truth")


if __name__ == "__main__":
    print(json.dumps(score_baseline(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))))
