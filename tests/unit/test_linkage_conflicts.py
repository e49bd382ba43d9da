"""Clusters holding two people (conflicting birth dates) are split along their weakest links."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from assets.linkage.conflicts import connected_groups, split_conflicting_clusters

CONFIG = {"conflicts": {"birth_years_apart": 15}}


def test_a_link_that_would_join_two_conflicting_records_is_refused():
    # father f1-f2, son s1-s2, and a record b without a birth date linked to both
    links = [("f1", "f2"), ("s1", "s2"), ("b", "f1"), ("b", "s1")]
    groups = connected_groups(["f1", "f2", "s1", "s2", "b"], links, [("f1", "s1")])
    assert groups["f1"] == groups["f2"] == groups["b"]
    assert groups["s1"] == groups["s2"] != groups["f1"]


def _split(records: list[tuple[str, str | None]], edges: list[tuple[str, str, float]]) -> dict[str, str]:
    """One Splink cluster of `records` (id, birth date) with `edges` (l, r, weight); the split."""
    con = duckdb.connect()
    con.register("n", pd.DataFrame({"unique_id": [r[0] for r in records],
                                    "birth_date": [dt.date.fromisoformat(r[1]) if r[1] else None for r in records]}))
    con.execute("create table nodes as select * from n")
    con.execute("create table clusters as select unique_id, 'c1' as cluster_id from nodes")
    con.register("e", pd.DataFrame(edges, columns=["unique_id_l", "unique_id_r", "match_weight"]))
    con.execute("create table edges as select *, 1 / (1 + pow(2, -match_weight)) as match_probability from e")
    table = split_conflicting_clusters(con, "clusters", "edges", "nodes", 0.9, CONFIG)
    return dict(con.execute(f"select unique_id, cluster_id from {table}").fetchall())


def test_a_father_and_his_namesake_son_bridged_by_a_record_without_a_birth_date_are_split_at_the_weak_link():
    clusters = _split([("father", "1959-08-14"), ("father_aid", "1959-08-14"), ("son", "2016-05-27"),
                       ("son_school", "2016-05-27"), ("cash", None)],
                      [("father", "father_aid", 28.0), ("son", "son_school", 30.0), ("cash", "father", 18.7),
                       ("cash", "son", 3.3)])
    assert clusters["father"] == clusters["father_aid"] == clusters["cash"]
    assert clusters["son"] == clusters["son_school"] != clusters["father"]


def test_a_mistyped_year_or_a_close_one_is_no_conflict():
    for other in ("1965-09-09",  # two digits swapped
                  "1906-09-09",  # one digit mistyped
                  "1968-03-01"):  # two digits apart but less than a generation
        clusters = _split([("a", "1956-09-09"), ("b", other), ("c", None)], [("a", "c", 10.0), ("b", "c", 10.0)])
        assert len(set(clusters.values())) == 1, other
        assert set(clusters.values()) == {"c1"}  # left as Splink made it


def test_clusters_without_a_conflict_keep_their_ids_and_each_part_is_named_by_its_first_record():
    clusters = _split([("x", "1970-01-01"), ("y", "2026-09-21"), ("z", None)], [("x", "z", 9.0), ("y", "z", 5.0)])
    assert clusters == {"x": "split:x", "z": "split:x", "y": "split:y"}
