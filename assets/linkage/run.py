"""One linkage run: score pairs with the model, apply reviewers' decisions, cluster, and keep
every master person id stable across runs."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from assets.catalog import table_exists
from assets.errors import SijilError
from assets.linkage.conflicts import split_conflicting_clusters
from assets.linkage.model import (config_for_model, mention_features, model_version, settings, train,
                                  unreliable_fields, with_prediction_rules)
from assets.linkage.resources import PhaseClock, work_connection

MENTIONS = "intermediate.int_person_mentions"


@dataclass
class LinkResult:
    mentions: int
    pairs_scored: int
    pairs_auto: int
    pairs_review: int
    clusters: int
    largest_cluster: int
    model_version: str
    retrained: bool
    new_records: int | None = None  # mentions not in the previous run (None on a first run or an accepted batch)
    new_records_joined_existing: int | None = None  # of them, placed with an existing master person
    seconds: dict[str, float] = field(default_factory=dict)  # wall seconds of each phase (PhaseClock)
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # CPU seconds of each phase


def training_sample_sql(table: str, limit: int, seed: int) -> str:
    """The `limit` records with the smallest hash of (record id, seed): a uniform random sample
    that, unlike DuckDB's reservoir sample (repeatable only on one thread), is the same whatever
    the threads or the order the rows arrive in, so the same records train the same model."""
    return f"select * from {table} order by hash(unique_id, {seed}), unique_id limit {limit}"


def load_or_train(work, linker_input, config: dict, model_path: Path, retrain: bool, records: int):
    """A Linker with trained parameters (and those parameters, Splink's settings dict): from the
    saved JSON when its version matches.

    Training reads at most config's training.max_records records, a random sample chosen by
    hash (:func:`training_sample_sql`; records sampled alike keep the share of matching pairs
    among all pairs, so the prior and u are estimated without bias, and EM's blocked pairs stay
    plenty); the model then scores every record, with term frequencies from all of them."""
    from splink import Linker

    version = model_version(config)
    if model_path.exists() and not retrain:
        saved = json.loads(model_path.read_text(encoding="utf-8"))
        if saved.get("sijil_model_version") == version:
            return (Linker(linker_input, saved["splink_settings"], log_level=logging.ERROR), saved["splink_settings"],
                    version, False)
    limit = min(int(config["training"].get("max_records") or 0) or records, records)
    # The training records in an order of their own (by hash, as the sample is chosen), so that
    # the order rows arrive in, which Splink's random sampling of u depends on, cannot change the
    # model. A connection of its own: Splink caches term-frequency tables by name, and the
    # sample's must not stand in for the whole registry's when scoring.
    from splink import DuckDBAPI

    sample = work.sql(training_sample_sql(linker_input.physical_name, limit, int(config["training"]["seed"])))
    sample = sample.to_arrow_table()
    with work_connection(config) as training_con:
        records = DuckDBAPI(connection=training_con).register(sample, table_name="training_sample")
        trainer = Linker(records, settings(config), log_level=logging.ERROR)
        _, u_bounded = train(trainer, config, training_con, records.physical_name)
        trained = with_prediction_rules(trainer.misc.save_model_to_json(), config)
    linker = Linker(linker_input, trained, log_level=logging.ERROR)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    model_path.write_text(json.dumps({
        "sijil_model_version": version,
        "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "training_records": limit,
        "vetoes_lifted": unreliable_fields(trained, config),
        "u_bounded": u_bounded,  # levels random sampling never reached: u from the pairs sampled
        "splink_settings": trained,
    }, indent=2, ensure_ascii=False), encoding="utf-8")
    return linker, trained, version, True


def reasons_sql(linker) -> str:
    """SQL naming, for a scored pair, the level each comparison reached and its weight.

    Splink keeps each comparison's match weight (mw_<comparison>); the level is the one
    whose trained weight that is."""
    parts = []
    for comparison in linker._settings_obj.comparisons:
        name = comparison.output_column_name
        cases = []
        for level in comparison.comparison_levels:
            if level.is_null_level or level._bayes_factor in (None, 0):
                continue
            weight = level._match_weight
            if weight is None or abs(weight) == float("inf"):
                continue
            label = level.label_for_charts.replace("'", "''")
            cases.append(f"when abs(mw_{name} - ({weight!r})) < 1e-9 then '{name}: {label} (' || round(mw_{name}, 1) || ')'")
        parts.append(f"case {' '.join(cases)} end" if cases else "null")
    return "concat_ws('; ', " + ", ".join(parts) + ")"


def check_batch(con, previous: str, config: dict) -> tuple[int, int]:
    """(new records, of them joined to an existing master person) for the clusters in
    `new_clusters` against the `previous` run's person_clusters; raises SijilError when the batch
    joins people its own source already lists far more than usual (`stop_if_large_batch`)."""
    con.execute(f"""
        create or replace temp table _sijil_batch as
        with marked as (
            select n.mention_id, n.cluster_id, p.mention_id is not null as known, m.source, m.entity
            from new_clusters n left join {previous} p using (mention_id) join {MENTIONS} m using (mention_id)
        ),
        clusters as (select cluster_id, bool_or(known) as has_known from marked group by cluster_id),
        known_sources as (select distinct cluster_id, source, entity from marked where known)
        select m.mention_id, m.source, m.entity, c.has_known as joined, k.cluster_id is not null as joined_own_source
        from marked m join clusters c using (cluster_id) left join known_sources k using (cluster_id, source, entity)
        where not m.known
    """)
    try:
        new, joined = con.execute("select count(*), count(*) filter (where joined) from _sijil_batch").fetchall()[0]
        stop_if_large_batch(con, "_sijil_batch", config)
    finally:
        con.execute("drop table _sijil_batch")
    return int(new), int(joined)


def _usual_own_source_joins(con, batch: str) -> float:
    """How many of a batch's new records (`batch`: source, entity) would, as usual, belong to
    someone their own source already lists: for each, the share of its source's linked records
    whose master person holds another record of that source (linkage.person_clusters). A registry
    lists a person once (about 0); a month of payments or contributions goes to people paid before."""
    return float(con.execute(f"""
        with listed as (
            select m.source, m.entity,
                   count(*) over (partition by c.master_person_id, m.source, m.entity) > 1 as repeated
            from linkage.person_clusters c join {MENTIONS} m using (mention_id)
        ),
        usual as (select source, entity, avg(case when repeated then 1.0 else 0.0 end) as share from listed group by all)
        select coalesce(sum(u.share), 0) from {batch} b left join usual u using (source, entity)
    """).fetchall()[0][0])


def stop_if_large_batch(con, batch: str, config: dict) -> None:
    """The batch safeguard over `batch` (a batch's new records: mention_id, source, entity,
    joined_own_source): SijilError when, of at least min_new_records, more joined master persons
    their own source already lists than both max_new_linked_share of them and the usual number
    (`_usual_own_source_joins`) plus max_excess_share of them: a source re-sent under new keys,
    or a file whose records share a placeholder identity."""
    new, joined_own_source = (int(x) for x in con.execute(
        f"select count(*), count(*) filter (where joined_own_source) from {batch}").fetchall()[0])
    usual = _usual_own_source_joins(con, batch)
    guard = config["batch_safeguard"]
    limit = max(float(guard["max_new_linked_share"]) * new, usual + float(guard["max_excess_share"]) * new)
    if new >= int(guard["min_new_records"]) and joined_own_source > limit:
        raise SijilError(
            f"linkage stopped: {joined_own_source:,} of this batch's {new:,} new records ({joined_own_source / new:.0%}) "
            f"would join master persons their own source already lists, where {usual / new:.0%} would as usual; "
            f"batch_safeguard in config/linkage.yaml allows {limit / new:.0%}. A batch that links far more than usual "
            "often means a file with shared or placeholder identifiers, or a source loaded twice; nothing was "
            "published. Check the batch; if it is expected (an agency re-sending records already registered), run "
            "again with the linkage run config accept_large_batch: true.")


def export_review_queue(con, path: Path) -> int:
    """The review queue as CSV (UTF-8 with BOM, opens in Excel) for reviewers; names that a
    spreadsheet would run as formulas are neutralised."""
    from assets.text.spreadsheet import neutralise_frame

    path.parent.mkdir(parents=True, exist_ok=True)
    frame = con.execute("select * from linkage.review_queue order by match_probability desc").df()
    neutralise_frame(frame).to_csv(path, index=False, encoding="utf-8-sig")
    return len(frame)


def link_mentions(con: duckdb.DuckDBPyConnection, config: dict, model_path: Path, retrain: bool = False,
                  accept_large_batch: bool = False, features: pa.Table | None = None) -> LinkResult:
    """Link every person mention in the warehouse; writes linkage.predictions,
    linkage.person_clusters (stable ids) and linkage.review_queue. `features`: the mentions'
    features (FEATURES_SQL's columns) as Arrow, when the run has computed them; else they are
    computed here. Splink reads them where they are, without a copy.

    Two safeguards stop the run before anything is written: a cluster larger than
    max_cluster_size, and (unless `accept_large_batch`) a batch of new mentions that joins
    existing master persons far more than usual (`check_batch`)."""
    from splink import DuckDBAPI
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    clock = PhaseClock()
    if features is None:
        features = mention_features(con, config, MENTIONS)
    n = features.num_rows
    clock.lap("features")
    work = work_connection(config)
    db_api = DuckDBAPI(connection=work)
    mentions = db_api.register(features, table_name="mentions")
    linker, trained, version, retrained = load_or_train(work, mentions, config, model_path, retrain, n)
    config = config_for_model(config, trained)  # the conflicts the trained model leaves in force
    clock.lap("train" if retrained else "load_model")
    thresholds = config["thresholds"]
    predictions = linker.inference.predict(threshold_match_probability=float(thresholds["review"]))
    clock.lap("predict")

    decisions_exist = table_exists(con, "linkage", "review_decisions")
    decisions = con.sql(
        "select mention_id_l, mention_id_r, lower(decision) as decision from linkage.review_decisions"
        if decisions_exist else
        "select null::varchar mention_id_l, null::varchar mention_id_r, null::varchar decision where false").to_arrow_table()
    work.register("decisions", decisions)
    reasons = reasons_sql(linker)
    work.execute(f"""
        create table edges as
        with scored as (
            select least(unique_id_l, unique_id_r) as unique_id_l, greatest(unique_id_l, unique_id_r) as unique_id_r,
                   match_weight, match_probability, {reasons} as reasons
            from {predictions.physical_name}
        ),
        decided as (
            select least(mention_id_l, mention_id_r) as l, greatest(mention_id_l, mention_id_r) as r, decision
            from decisions
        )
        select s.unique_id_l, s.unique_id_r, s.match_weight, s.match_probability, s.reasons
        from scored s left join decided d on d.l = s.unique_id_l and d.r = s.unique_id_r
        where coalesce(d.decision, '') <> 'non_match'
        union all
        select l, r, null, 1.0, 'reviewer decided: match' from decided where decision = 'match'
    """)
    clock.lap("reasons_and_decisions")
    auto = float(thresholds["auto_link"])
    components = cluster_pairwise_predictions_at_threshold(
        nodes=mentions, edges="edges", db_api=db_api, node_id_column_name="unique_id",
        threshold_match_probability=auto)
    clusters = split_conflicting_clusters(work, components.physical_name, "edges", mentions.physical_name, auto, config)
    work.execute(f"""
        create table new_clusters as
        with ends as (
            select unique_id_l as unique_id, match_probability from edges where match_probability >= {auto}
            union all
            select unique_id_r, match_probability from edges where match_probability >= {auto}
        ),
        best as (select unique_id, max(match_probability) as match_probability from ends group by unique_id)
        select c.unique_id as mention_id, c.cluster_id, b.match_probability
        from {clusters} c left join best b using (unique_id)
    """)
    clock.lap("cluster")
    sizes = work.execute("select max(n), count(*) from (select cluster_id, count(*) n from new_clusters group by 1)").fetchall()[0]
    largest, n_clusters = int(sizes[0] or 0), int(sizes[1] or 0)
    if largest > int(config["max_cluster_size"]):
        raise SijilError(f"linkage stopped: a cluster would hold {largest} records (limit {config['max_cluster_size']} "
                         "in config/linkage.yaml). This usually means a blocking or data problem merging many people; "
                         "nothing was published. Inspect linkage.predictions from the previous run.")

    con.register("new_clusters", work.sql("select * from new_clusters").to_arrow_table())
    con.register("scored_edges", work.sql("select * from edges").to_arrow_table())
    # Splink's work tables (the scored pairs, the records with their term frequencies) are not
    # needed any more: freed before the warehouse writes, which need memory of their own.
    work.close()
    del features, mentions, linker, predictions, components
    previous = "linkage.person_clusters" if table_exists(con, "linkage", "person_clusters") else \
        "(select null::varchar mention_id, null::varchar master_person_id where false)"
    new_records, joined_existing = check_batch(con, previous, config) if previous == "linkage.person_clusters" \
        and not accept_large_batch else (None, None)
    con.execute("begin transaction")
    con.execute(f"""
        create or replace table linkage.person_clusters as
        with overlap as (
            select n.cluster_id, p.master_person_id, count(*) as shared
            from new_clusters n join {previous} p using (mention_id)
            group by all
        ),
        ranked as (
            select *, row_number() over (partition by cluster_id order by shared desc, master_person_id) as rank_for_cluster,
                      row_number() over (partition by master_person_id order by shared desc, cluster_id) as rank_for_id
            from overlap
        ),
        carried as (select cluster_id, master_person_id from ranked where rank_for_cluster = 1 and rank_for_id = 1),
        -- A new master person's id comes from its first record; when a cluster splits, that record
        -- may have named the cluster it split from, whose id another part carries: an id that was
        -- ever given is not given again, so the part is named by all its records instead.
        fresh as (
            select cluster_id, 'MP' || upper(substr(md5(min(mention_id)), 1, 14)) as by_first,
                   'MP' || upper(substr(md5(list_sort(list(mention_id))::varchar), 1, 14)) as by_members
            from new_clusters anti join carried using (cluster_id)
            group by cluster_id
        ),
        assigned as (
            select n.mention_id, n.cluster_id, n.match_probability,
                   coalesce(c.master_person_id,
                            case when f.by_first in (select master_person_id from {previous}) then f.by_members
                                 else f.by_first end) as master_person_id
            from new_clusters n left join carried c using (cluster_id) left join fresh f using (cluster_id)
        )
        select mention_id, master_person_id, match_probability,
               count(*) over (partition by master_person_id) as cluster_size
        from assigned
    """)
    con.execute("""
        create or replace table linkage.predictions as
        select unique_id_l as mention_id_l, unique_id_r as mention_id_r, match_weight, match_probability, reasons
        from scored_edges
    """)
    con.execute(f"""
        create or replace table linkage.review_queue as
        select e.unique_id_l as mention_id_l, e.unique_id_r as mention_id_r, e.match_probability, e.reasons,
               l.source as source_l, r.source as source_r,
               l.full_name as full_name_l, r.full_name as full_name_r,
               l.birth_date as birth_date_l, r.birth_date as birth_date_r,
               l.national_id as national_id_l, r.national_id as national_id_r,
               l.sex as sex_l, r.sex as sex_r
        from scored_edges e
        join {MENTIONS} l on l.mention_id = e.unique_id_l
        join {MENTIONS} r on r.mention_id = e.unique_id_r
        join linkage.person_clusters cl on cl.mention_id = e.unique_id_l
        join linkage.person_clusters cr on cr.mention_id = e.unique_id_r
        where e.match_probability < {float(thresholds['auto_link'])} and cl.master_person_id <> cr.master_person_id
    """)
    con.execute("commit")
    counts = con.execute(f"""select count(*), count(*) filter (where match_probability >= {float(thresholds['auto_link'])})
                             from linkage.predictions""").fetchall()[0]
    review = con.execute("select count(*) from linkage.review_queue").fetchall()[0][0]
    con.unregister("new_clusters")
    con.unregister("scored_edges")
    clock.lap("write")
    return LinkResult(mentions=n, pairs_scored=int(counts[0]), pairs_auto=int(counts[1]), pairs_review=int(review),
                      clusters=n_clusters, largest_cluster=largest, model_version=version, retrained=retrained,
                      new_records=new_records, new_records_joined_existing=joined_existing, seconds=clock.seconds, cpu_seconds=clock.cpu_seconds)


# A household's own members all younger than this follow its head (link_households).
ADULT_AGE = 18


def link_households(con: duckdb.DuckDBPyConnection, household_sources: list[str], reference_date: dt.date) -> int:
    """linkage.household_links: every source household reference → one master household.

    A master person's household is the reference of the first of `household_sources` (the
    profile's order, e.g. the cash programme's household, the refugee case, the family book)
    it appears in; a source household belongs to the master household most of its members
    belong to. Except when that would leave only minors (under ADULT_AGE at `reference_date`,
    by their birth date on that household's record) in a household of their own while its head
    heads a household of an earlier source: then they follow the head. A displacement record
    that names the head, the spouse and one child, and a ration card that names all eight, are
    one family, where the majority made the five children listed only on the card a household
    of minors. A card whose own members include an adult (a married son's family on his
    father's card) keeps its own household."""
    priority = " ".join(f"when '{s}' then {i}" for i, s in enumerate(household_sources, start=1))
    con.execute(f"""
        create or replace table linkage.household_links as
        with memberships as (
            select c.master_person_id, m.source, m.household_ref, m.relation_to_head = 'head' as is_head,
                   coalesce(p.birth_date > ?::date - interval {ADULT_AGE} year, false) as is_minor,
                   case m.source {priority} else 99 end as priority
            from intermediate.int_household_memberships m
            join linkage.person_clusters c using (mention_id)
            left join intermediate.int_person_mentions p using (mention_id)
        ),
        person_household as (
            select master_person_id, household_ref as primary_ref
            from memberships
            qualify row_number() over (partition by master_person_id order by priority, household_ref) = 1
        ),
        votes as (
            select m.source, m.household_ref, p.primary_ref, count(distinct m.master_person_id) as members
            from memberships m join person_household p using (master_person_id)
            group by all
        ),
        by_members as (
            select source, household_ref, primary_ref
            from votes
            qualify row_number() over (partition by source, household_ref order by members desc, primary_ref) = 1
        ),
        -- households whose own members (in no earlier household) are all minors
        minors_only as (
            select m.source, m.household_ref
            from memberships m join person_household p using (master_person_id)
            where p.primary_ref = m.household_ref
            group by all
            having bool_and(m.is_minor)
        ),
        -- the household each head heads in the earliest source, and what its members made of it
        first_headed as (
            select m.master_person_id, m.priority, b.primary_ref
            from memberships m join by_members b using (source, household_ref)
            where m.is_head
            qualify row_number() over (partition by m.master_person_id order by m.priority, m.household_ref) = 1
        ),
        by_head as (
            select m.source, m.household_ref, min(f.primary_ref) as primary_ref
            from memberships m join minors_only using (source, household_ref)
            join first_headed f on f.master_person_id = m.master_person_id and f.priority < m.priority
            where m.is_head
            group by all
        ),
        links as (
            select b.source, b.household_ref, coalesce(h.primary_ref, b.primary_ref) as primary_ref
            from by_members b left join by_head h using (source, household_ref)
        )
        select source, household_ref, 'MH' || upper(substr(md5(primary_ref), 1, 14)) as master_household_id, primary_ref
        from links
    """, [reference_date])
    return con.execute("select count(distinct master_household_id) from linkage.household_links").fetchall()[0][0]
