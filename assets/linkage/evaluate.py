"""Pairwise precision, recall and F1 of clusters against ground truth, and the blocking
recall behind them."""

from __future__ import annotations

from pathlib import Path

from assets.linkage.blocking import blocking_recall_by_subset


def pairwise_scores(con, clusters: str, truth: str) -> dict:
    """Scores of `clusters` (mention_id, cluster) against `truth` (mention_id, person) over the
    mentions in both. A pair is a true positive when both sides share a cluster and a person."""
    return _subset_pair_counts(con, clusters, truth, {"all": "true"})["all"]


def _scores(predicted: float, actual: float, tp: float, records: float) -> dict:
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"records": int(records), "predicted_pairs": int(predicted), "true_pairs": int(actual),
            "true_positive_pairs": int(tp), "precision": precision, "recall": recall, "f1": f1}


def _subset_pair_counts(con, clusters: str, truth: str, subsets: dict[str, str]) -> dict:
    """`pairwise_scores` for each subset of `truth` (a condition on its record {t} that both
    records of a pair meet), every subset in one pass: the records of each subset are counted side
    by side per cluster, per person and per cluster and person, so the mentions are joined and
    grouped once, not once per subset."""
    names = list(subsets)
    flags = ", ".join(f"({subsets[n].format(t='t')}) as s{i}" for i, n in enumerate(names))
    counts = ", ".join(f"count(*) filter (where s{i}) as n{i}" for i in range(len(names)))
    pairs = ", ".join(f"coalesce(sum(n{i} * (n{i} - 1) / 2), 0)" for i in range(len(names)))
    records = ", ".join(f"count(*) filter (where s{i})" for i in range(len(names)))
    row = con.execute(f"""
        with j as (select c.cluster, t.person, {flags} from {clusters} c join {truth} t using (mention_id)),
        pred as (select {counts} from j group by cluster),
        act as (select {counts} from j group by person),
        both_ as (select {counts} from j group by cluster, person)
        select (select [{pairs}] from pred), (select [{pairs}] from act), (select [{pairs}] from both_),
               (select [{records}] from j)
    """).fetchall()[0]
    return {n: _scores(*(float(column[i]) for column in row)) for i, n in enumerate(names)}


# The subsets every score is given for: a condition on a truth record {t} (national_id, sex)
# that both records of a pair meet. Without a national number is the hard part.
SUBSETS = {"overall": "true", "no_national_id": "{t}.national_id is null",
           "sex_M": "{t}.sex = 'M'", "sex_F": "{t}.sex = 'F'",
           "no_national_id_sex_M": "{t}.national_id is null and {t}.sex = 'M'",
           "no_national_id_sex_F": "{t}.national_id is null and {t}.sex = 'F'"}


def subset_scores(con, clusters: str, truth: str, features: str | None = None, config: dict | None = None) -> dict:
    """`pairwise_scores` of `clusters` for each of SUBSETS of `truth` (mention_id, person,
    national_id, sex); with `features` and the linkage `config`, each subset's blocking recall too."""
    result = _subset_pair_counts(con, clusters, truth, SUBSETS)
    if config is not None:
        for name, recall in blocking_recall_by_subset(con, truth, features, config, SUBSETS).items():
            result[name].update(recall)
    return result


def evaluate_clusters(con, truth_dir: Path, config: dict | None = None, features: str | None = None) -> dict | None:
    """Scores of linkage.person_clusters for each of SUBSETS; None without truth. With the
    linkage `config` and the mentions' `features` (a relation: model.mention_features), each subset also
    gets its blocking recall."""
    records = truth_dir / "records.parquet"
    if not records.exists():
        return None
    # A table, not a view: every score and blocking recall below reads it again.
    con.execute(f"""
        create or replace temp table _truth as
        select m.mention_id, t.person_id as person, m.national_id, m.sex
        from intermediate.int_person_mentions m
        join read_parquet('{records.as_posix()}') t
          on t.source = m.source and t.entity = m.entity and t.record_key = m.record_key
    """)
    con.execute("create or replace temp view _clusters as select mention_id, master_person_id as cluster from linkage.person_clusters")
    try:
        return subset_scores(con, "_clusters", "_truth", features, config if features else None)
    finally:
        con.execute("drop view _clusters")
        con.execute("drop table _truth")
