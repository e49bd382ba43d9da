"""Incremental linkage: new person mentions against an existing linked registry.

When only new mentions arrived since the last run, there is no need to score the whole
registry again: the saved model scores the new mentions against the linked ones (Splink's
`predict_between`) and among themselves (`predict_within`), term frequencies coming from the
whole registry. A new mention joins the master person of its best automatic link; new
mentions linked only to each other become a new master person. New mentions that link
automatically to several existing master persons merge them, as a full relink would, the one
with the most records keeping its id — unless two of them hold birth dates no one person has:
then the new mentions join the best of them, count as a bridge, and their pairs go to the
review queue. Existing master persons are never split here (that needs a full run, which also
applies reviewers' decisions).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from assets.errors import SijilError
from assets.linkage.conflicts import birth_dates_conflict_sql, connected_groups, split_conflicting_clusters
from assets.linkage.model import MODEL_OUT_OF_DATE, config_for_model, mention_features, model_version
from assets.linkage.resources import PhaseClock, work_connection
from assets.catalog import table_exists
from assets.linkage.run import MENTIONS, reasons_sql, stop_if_large_batch


def _tf_columns(linker) -> list[str]:
    """Columns whose term frequencies the model reads (its levels' tf_adjustment_column)."""
    columns = []
    for comparison in linker._settings_obj.comparisons:
        for level in comparison.comparison_levels:
            if level._has_tf_adjustments and level._tf_adjustment_input_column.input_name not in columns:
                columns.append(level._tf_adjustment_input_column.input_name)
    return columns


@dataclass
class IncrementalResult:
    new_records: int
    joined_existing: int
    new_persons: int
    bridges: int
    pairs_scored: int
    merged_persons: int = 0  # existing master persons merged into another by new mentions
    seconds: dict[str, float] = field(default_factory=dict)  # wall seconds per phase
    cpu_seconds: dict[str, float] = field(default_factory=dict)


def link_new_mentions(con: duckdb.DuckDBPyConnection, config: dict, model_path: Path,
                      accept_large_batch: bool = False, features: pa.Table | None = None) -> IncrementalResult:
    """Link the mentions of intermediate.int_person_mentions that linkage.person_clusters does
    not hold yet; appends to linkage.person_clusters, linkage.predictions and
    linkage.review_queue. Needs a saved model of the current version. `features`: as for
    `link_mentions`."""
    from splink import DuckDBAPI, Linker

    if not model_path.exists() or not table_exists(con, "linkage", "person_clusters"):
        raise SijilError(f"incremental linkage needs a linked registry and its trained model ({model_path}): "
                         "run a full linkage first")
    saved = json.loads(model_path.read_text(encoding="utf-8"))
    if saved.get("sijil_model_version") != model_version(config):
        raise SijilError(f"{MODEL_OUT_OF_DATE}: run a full linkage (it retrains) instead of an incremental one")
    config = config_for_model(config, saved["splink_settings"])  # the conflicts the trained model leaves in force
    clock = PhaseClock()
    if features is None:
        features = mention_features(con, config, MENTIONS)
    existing = con.sql("select mention_id, master_person_id from linkage.person_clusters").to_arrow_table()
    clock.lap("features")
    work = work_connection(config)  # bounded and spilling like the full linkage's
    try:
        # The registry's features are read where they are: Arrow, with one column added (no
        # copy of the others); the linked mentions are a view over them, the few new ones a table.
        is_new = pc.invert(pc.is_in(features["unique_id"], value_set=existing["mention_id"].combine_chunks()))
        work.register("mentions", features.append_column("is_new", is_new))
        work.register("existing", existing)
        work.execute("create view linked_mentions as select * exclude (is_new) from mentions where not is_new")
        db_api = DuckDBAPI(connection=work)
        everyone = db_api.register("mentions", table_name="everyone")
        new = db_api.register(work.sql("select * exclude (is_new) from mentions where is_new").to_arrow_table(),
                              table_name="new_mentions")
        linked = db_api.register("linked_mentions", table_name="linked")
        n_new = work.execute("select count(*) from new_mentions").fetchall()[0][0]
        if n_new == 0:
            return IncrementalResult(0, 0, 0, 0, 0)
        linker = Linker(everyone, saved["splink_settings"], log_level=logging.ERROR)
        for column in _tf_columns(linker):
            linker.table_management.compute_tf_table(column)
        clock.lap("term_frequencies")
        review, auto = float(config["thresholds"]["review"]), float(config["thresholds"]["auto_link"])
        between = linker.inference.predict_between(new, linked, threshold_match_probability=review)
        clock.lap("predict_between")
        within = linker.inference.predict_within(new, threshold_match_probability=review)
        clock.lap("predict_within")
        reasons = reasons_sql(linker)
        work.execute(f"""
            create table edges as
            select least(unique_id_l, unique_id_r) as unique_id_l, greatest(unique_id_l, unique_id_r) as unique_id_r,
                   match_weight, match_probability, {reasons} as reasons
            from (select * from {between.physical_name} union all by name select * from {within.physical_name})
        """)
        clusters = _assign(work, auto, config)
        clock.lap("cluster")
        con.register("new_clusters", clusters)
        con.register("merges", work.sql("select * from merges").to_arrow_table())
        con.register("new_edges", work.sql("select * from edges").to_arrow_table())
        # As in the full linkage: Splink's work tables are freed before the warehouse writes.
        work.close()
        del features, existing, everyone, new, linked, linker, between, within
        if not accept_large_batch:
            _check_batch(con, config)
        result = _write(con, auto, n_new)
        con.unregister("new_clusters")
        con.unregister("merges")
        con.unregister("new_edges")
        clock.lap("write")
        result.seconds, result.cpu_seconds = clock.seconds, clock.cpu_seconds
        return result
    finally:
        work.close()


def _assign(work, auto: float, config: dict):
    """Each new mention's cluster: connected components of the automatic links among new
    mentions (split where they conflict, `split_conflicting_clusters`), each joined to the
    existing master person its best link to the registry points to, among those holding no
    birth date that conflicts with the cluster's. Reads `work`'s `mentions`, `edges` and
    `existing` (linkage.person_clusters' mention and master person ids)."""
    from splink.clustering import cluster_pairwise_predictions_at_threshold
    from splink import DuckDBAPI

    db_api = DuckDBAPI(connection=work)
    nodes = db_api.register(work.sql("select unique_id from mentions where is_new").to_arrow_table(), table_name="new_nodes")
    work.execute("create table within_edges as select * from edges where unique_id_l in (select unique_id from new_nodes) "
                 "and unique_id_r in (select unique_id from new_nodes)")
    components = cluster_pairwise_predictions_at_threshold(
        nodes=nodes, edges="within_edges", db_api=db_api, node_id_column_name="unique_id",
        threshold_match_probability=auto)
    clusters = split_conflicting_clusters(work, components.physical_name, "within_edges", "mentions", auto, config)
    work.execute(f"""
        create or replace table joinable as
        with to_existing as (
            select case when n.unique_id = e.unique_id_l then e.unique_id_l else e.unique_id_r end as new_id,
                   case when n.unique_id = e.unique_id_l then e.unique_id_r else e.unique_id_l end as old_id,
                   e.match_probability
            from edges e join new_nodes n on n.unique_id in (e.unique_id_l, e.unique_id_r)
            where e.match_probability >= {auto}
        ),
        links as (
            select c.cluster_id, x.master_person_id, t.match_probability
            from to_existing t
            join existing x on x.mention_id = t.old_id
            join {clusters} c on c.unique_id = t.new_id
        ),
        -- a master person holding a birth date no record of the new cluster can share is not joined
        refused as (
            select distinct l.cluster_id, l.master_person_id
            from links l
            join {clusters} c on c.cluster_id = l.cluster_id
            join mentions a on a.unique_id = c.unique_id
            join existing x on x.master_person_id = l.master_person_id
            join mentions b on b.unique_id = x.mention_id
            where {birth_dates_conflict_sql('a', 'b', config)}
        )
        select * from links anti join refused using (cluster_id, master_person_id)
    """)
    _merge_bridged_persons(work, config)
    return work.sql(f"""
        with best as (
            select l.cluster_id, arg_max(coalesce(m.survivor, l.master_person_id), l.match_probability) as master_person_id,
                   count(distinct coalesce(m.survivor, l.master_person_id)) as masters
            from joinable l left join merges m using (master_person_id)
            group by l.cluster_id
        ),
        ends as (
            select unique_id_l as unique_id, match_probability from edges where match_probability >= {auto}
            union all select unique_id_r, match_probability from edges where match_probability >= {auto}
        ),
        best_link as (select unique_id, max(match_probability) as match_probability from ends group by unique_id)
        select c.unique_id as mention_id, c.cluster_id,
               coalesce(b.master_person_id,
                        'MP' || upper(substr(md5(min(c.unique_id) over (partition by c.cluster_id)), 1, 14))) as master_person_id,
               coalesce(b.masters, 0) as masters, l.match_probability
        from {clusters} c
        left join best b using (cluster_id)
        left join best_link l using (unique_id)
    """).to_arrow_table()


def _merge_bridged_persons(work, config: dict) -> None:
    """Create `merges` (master_person_id, survivor): the existing master persons that new clusters
    link (`joinable`: cluster_id, master_person_id) into one, in connected groups, each group
    under its master person with the most records (the smallest id among equals); a group two of
    whose master persons hold birth dates no one person has is not merged. Only the few bridged
    master persons are read into Python."""
    bridges = [masters for (masters,) in work.execute(
        "select list(distinct master_person_id) from joinable group by cluster_id "
        "having count(distinct master_person_id) > 1").fetchall()]
    groups = connected_groups(sorted({m for masters in bridges for m in masters}),
                              [(masters[0], other) for masters in bridges for other in masters[1:]], [])
    work.register("bridged", pa.table({"master_person_id": pa.array(list(groups), pa.string()),
                                       "group_id": pa.array(list(groups.values()), pa.string())}))
    work.execute(f"""
        create or replace table merges as
        with members as (
            select b.group_id, b.master_person_id, x.mention_id
            from bridged b join existing x using (master_person_id)
        ),
        conflicting as (
            select distinct ma.group_id
            from members ma
            join members mb on mb.group_id = ma.group_id and ma.master_person_id < mb.master_person_id
            join mentions a on a.unique_id = ma.mention_id
            join mentions b on b.unique_id = mb.mention_id
            where {birth_dates_conflict_sql('a', 'b', config)}
        ),
        sizes as (select group_id, master_person_id, count(*) as records from members group by all)
        select master_person_id,
               first_value(master_person_id) over (partition by group_id order by records desc, master_person_id) as survivor
        from sizes anti join conflicting using (group_id)
    """)
    work.unregister("bridged")


def _check_batch(con, config: dict) -> None:
    """The batch safeguard (`stop_if_large_batch`) for the new mentions in `new_clusters`: those
    joining a master person that their own source already lists, against the usual number."""
    con.execute(f"""
        create or replace temp table _sijil_batch as
        select n.mention_id, m.source, m.entity,
               n.masters > 0 and exists (
                   select 1 from linkage.person_clusters c join {MENTIONS} o on o.mention_id = c.mention_id
                   where c.master_person_id = n.master_person_id and o.source = m.source and o.entity = m.entity
               ) as joined_own_source
        from new_clusters n join {MENTIONS} m using (mention_id)
    """)
    try:
        stop_if_large_batch(con, "_sijil_batch", config)
    finally:
        con.execute("drop table _sijil_batch")


def _write(con, auto: float, n_new: int) -> IncrementalResult:
    joined, new_persons, bridges = con.execute("""
        select count(*) filter (where masters > 0), count(distinct cluster_id) filter (where masters = 0),
               count(*) filter (where masters > 1)
        from new_clusters""").fetchall()[0]
    merged = con.execute("select count(*) from merges where survivor <> master_person_id").fetchall()[0][0]
    con.execute("begin transaction")
    con.execute("""
        create or replace table linkage.person_clusters as
        with combined as (
            select p.mention_id, coalesce(m.survivor, p.master_person_id) as master_person_id, p.match_probability
            from linkage.person_clusters p left join merges m using (master_person_id)
            union all
            select mention_id, master_person_id, match_probability from new_clusters
        )
        select mention_id, master_person_id, match_probability,
               count(*) over (partition by master_person_id) as cluster_size
        from combined
    """)
    con.execute("insert into linkage.predictions select unique_id_l, unique_id_r, match_weight, match_probability, reasons "
                "from new_edges")
    con.execute(f"""
        insert into linkage.review_queue
        select e.unique_id_l, e.unique_id_r, e.match_probability, e.reasons,
               l.source, r.source, l.full_name, r.full_name, l.birth_date, r.birth_date,
               l.national_id, r.national_id, l.sex, r.sex
        from new_edges e
        join {MENTIONS} l on l.mention_id = e.unique_id_l
        join {MENTIONS} r on r.mention_id = e.unique_id_r
        join linkage.person_clusters cl on cl.mention_id = e.unique_id_l
        join linkage.person_clusters cr on cr.mention_id = e.unique_id_r
        where cl.master_person_id <> cr.master_person_id
          and (e.match_probability < {auto} or cl.mention_id in (select mention_id from new_clusters where masters > 1)
               or cr.mention_id in (select mention_id from new_clusters where masters > 1))
    """)
    con.execute("commit")
    pairs = con.execute("select count(*) from new_edges").fetchall()[0][0]
    return IncrementalResult(new_records=n_new, joined_existing=int(joined), new_persons=int(new_persons),
                             bridges=int(bridges), pairs_scored=int(pairs), merged_persons=int(merged))
