"""The Dagster linkage assets between int_person_mentions and the core marts."""

import json
from pathlib import Path

import dagster as dg

from assets.linkage.blocking import comparisons_per_rule
from assets.linkage.evaluate import evaluate_clusters
from assets.linkage.mode import link_registry, linked_features
from assets.linkage.model import load_config, saved_config
from assets.linkage.run import export_review_queue, link_households
from assets.operations.retries import final_unless_transient, transient_retry_policy
from assets.profiles import Profile
from assets.settings import get_settings
from assets.warehouse import Warehouse

MENTIONS_KEY = dg.AssetKey(["intermediate", "int_person_mentions"])
MEMBERSHIPS_KEY = dg.AssetKey(["intermediate", "int_household_memberships"])
CLUSTERS_KEY = dg.AssetKey(["linkage", "person_clusters"])
LINK_OP = "link_person_mentions"  # the step that links (its run config: LinkageConfig)


class LinkageConfig(dg.Config):
    retrain: bool = False  # retrain the model even when settings are unchanged (and relink everything)
    accept_large_batch: bool = False  # link a batch the batch safeguard stopped, once it is checked
    # By default the run decides (assets/linkage/mode.py): only new mentions since the last run,
    # nothing else changed -> they are scored against the linked registry (Splink's
    # predict_between) with the saved model; anything else -> a full relink.
    full_relink: bool = False  # score the whole registry again even when only new mentions arrived
    incremental: bool = False  # insist on the incremental path (an error, with the reason, when it is not possible)


def saved_model_path() -> Path:
    """Where the trained linkage model is kept (its JSON, under SIJIL_HOME)."""
    return get_settings().home / "linkage" / "linkage_model.json"


def vetoes_lifted(model_path: Path) -> str:
    """The vetoes the saved model lifts (model.config_for_model; listed in its JSON when it was
    trained), for the asset's metadata."""
    return ", ".join(json.loads(model_path.read_text(encoding="utf-8"))["vetoes_lifted"]) or "none"


def build_linkage_assets(profile: Profile) -> list:
    """person_clusters (with predictions and the review queue), household_links, evaluation."""

    @dg.multi_asset(
        specs=[
            dg.AssetSpec(CLUSTERS_KEY, deps=[MENTIONS_KEY], group_name="linkage",
                         kinds={"splink", "duckdb"},
                         description="Every person mention's master person id, stable across runs (Splink model, "
                                     "clustered at the automatic-link threshold; a cluster holding two birth dates "
                                     "no one person has is split along its weakest links, unless the trained model "
                                     "finds birth dates unreliable in these records: metadata vetoes_lifted).\n\n"
                                     "رقم الشخص الموحّد لكل سجل؛ تُفصل المجموعة التي تجمع تاريخَي ميلاد لا يكونان "
                                     "لشخص واحد عند أضعف روابطها."),
            dg.AssetSpec(["linkage", "predictions"], deps=[MENTIONS_KEY], group_name="linkage", kinds={"splink", "duckdb"},
                         description="Scored record pairs above the review threshold.\n\nأزواج السجلات المقيّمة."),
            dg.AssetSpec(["linkage", "review_queue"], deps=[MENTIONS_KEY], group_name="linkage", kinds={"splink", "duckdb"},
                         description="Pairs between the review and automatic-link thresholds, side by side with the "
                                     "level each comparison reached, for a person to decide; also exported as "
                                     "linkage/review_queue.csv under SIJIL_HOME. Decisions written to "
                                     "linkage.review_decisions (mention_id_l, mention_id_r, decision match/non_match) "
                                     "apply on the next run.\n\nأزواج للمراجعة."),
        ],
        pool="duckdb_writer",
        retry_policy=transient_retry_policy(),
        name=LINK_OP,
    )
    @final_unless_transient
    def link_person_mentions(context: dg.AssetExecutionContext, config: LinkageConfig, warehouse: Warehouse):
        settings = get_settings()
        model_path = saved_model_path()
        review_csv = settings.home / "linkage" / "review_queue.csv"
        with warehouse.connect() as con:
            decision, result = link_registry(con, load_config(), model_path, retrain=config.retrain,
                                             full_relink=config.full_relink, incremental=config.incremental,
                                             accept_large_batch=config.accept_large_batch)
            context.log.info(f"{decision.mode} linkage: {decision.reason}")
            export_review_queue(con, review_csv)
            if decision.mode == "incremental":
                yield from incremental_results(context, con, result, model_path, review_csv, decision)
                return
        context.log.info(f"linked {result.mentions} mentions into {result.clusters} master persons "
                         f"(model {result.model_version}, retrained={result.retrained}; wall seconds by phase {result.seconds}, CPU {result.cpu_seconds})")
        yield dg.MaterializeResult(asset_key=CLUSTERS_KEY, metadata={
            "dagster/row_count": result.mentions, "master_persons": result.clusters,
            "largest_cluster": result.largest_cluster, "model_version": result.model_version,
            "new_records": result.new_records, "new_records_joined_existing": result.new_records_joined_existing,
            "model_retrained": result.retrained, "model_path": str(model_path), "profile": settings.profile,
            "incremental": False, "linkage_mode_reason": decision.reason, "vetoes_lifted": vetoes_lifted(model_path),
            "seconds_by_phase": dg.MetadataValue.json(result.seconds),
            "cpu_seconds_by_phase": dg.MetadataValue.json(result.cpu_seconds)})
        yield dg.MaterializeResult(asset_key=["linkage", "predictions"], metadata={
            "dagster/row_count": result.pairs_scored, "pairs_auto_linked": result.pairs_auto})
        yield dg.MaterializeResult(asset_key=["linkage", "review_queue"], metadata={
            "dagster/row_count": result.pairs_review, "export": str(review_csv)})

    def incremental_results(context, con, result, model_path, review_csv, decision):
        counts = con.execute("""select (select count(*) from linkage.person_clusters),
                                       (select count(distinct master_person_id) from linkage.person_clusters),
                                       (select count(*) from linkage.predictions),
                                       (select count(*) from linkage.review_queue)""").fetchall()[0]
        context.log.info(f"linked {result.new_records} new mentions: {result.joined_existing} joined existing master "
                         f"persons, {result.new_persons} new master persons, {result.merged_persons} existing master "
                         f"persons merged into another, {result.bridges} bridging two that cannot be one person")
        yield dg.MaterializeResult(asset_key=CLUSTERS_KEY, metadata={
            "dagster/row_count": counts[0], "master_persons": counts[1], "incremental": True,
            "new_records": result.new_records, "new_records_joined_existing": result.joined_existing,
            "new_master_persons": result.new_persons, "merged_master_persons": result.merged_persons,
            "bridging_records": result.bridges,
            "model_path": str(model_path), "linkage_mode_reason": decision.reason,
            "vetoes_lifted": vetoes_lifted(model_path), "seconds_by_phase": dg.MetadataValue.json(result.seconds),
            "cpu_seconds_by_phase": dg.MetadataValue.json(result.cpu_seconds)})
        yield dg.MaterializeResult(asset_key=["linkage", "predictions"], metadata={
            "dagster/row_count": counts[2], "pairs_scored_now": result.pairs_scored})
        yield dg.MaterializeResult(asset_key=["linkage", "review_queue"], metadata={
            "dagster/row_count": counts[3], "export": str(review_csv)})

    @dg.asset(key=["linkage", "household_links"], deps=[CLUSTERS_KEY, MEMBERSHIPS_KEY, MENTIONS_KEY],
              group_name="linkage", kinds={"duckdb"}, pool="duckdb_writer", retry_policy=transient_retry_policy(),
              description="Every source household reference (cash-programme household, refugee case, family book) "
                          "mapped to one master household: the one most of its members belong to, or its head's "
                          "when its own members are all minors.\n\nربط كل مرجع أسرة في المصادر بأسرة موحّدة: أسرة أغلب أفراده، أو أسرة ربّه إذا كان أفراده الذين لا يذكرهم مصدر قبله كلهم قاصرين.")
    @final_unless_transient
    def household_links(warehouse: Warehouse) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            households = link_households(con, list(profile.household_sources), get_settings().reference_date)
            rows = con.execute("select count(*) from linkage.household_links").fetchall()[0][0]
        return dg.MaterializeResult(metadata={"dagster/row_count": rows, "master_households": households})

    @dg.asset(key=["linkage", "evaluation"], deps=[CLUSTERS_KEY], group_name="linkage",
              kinds={"duckdb"}, pool="duckdb_writer", retry_policy=transient_retry_policy(),
              description="Blocking cost (Splink's blocking analysis: comparisons added by each prediction rule, "
                          "per record; linkage.blocking_analysis) and, when a truth directory is present (never on "
                          "real data), pairwise precision, recall and F1 of the clusters and the blocking recall "
                          "(linkage.evaluation).\n\nدقة الربط مقابل الحقيقة المعروفة.")
    @final_unless_transient
    def evaluation(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        config = saved_config(load_config(), saved_model_path())
        with warehouse.connect() as con:
            features = linked_features(con, config)
            con.register("_sijil_features", features)
            cost = comparisons_per_rule(config, features)
            con.execute("create or replace table linkage.blocking_analysis as select * from (values " + ", ".join(
                f"({i}, '{c['rule'].replace(chr(39), chr(39) * 2)}', {c['marginal_comparisons']}, "
                f"{c['cumulative_comparisons']}, {c['comparisons_per_record']}, {c['estimated']})"
                for i, c in enumerate(cost, start=1))
                + ") t(rule_number, rule, marginal_comparisons, cumulative_comparisons, comparisons_per_record, estimated)")
            scores = evaluate_clusters(con, get_settings().truth, config, "_sijil_features")
            con.unregister("_sijil_features")
            if scores is not None:
                con.execute("create or replace table linkage.evaluation as select * from (values " + ", ".join(
                    f"('{k}', {v['records']}, {v['precision']}, {v['recall']}, {v['f1']}, {v['blocking_recall']})"
                    for k, v in scores.items())
                    + ") t(subset, records, precision, recall, f1, blocking_recall)")
        meta = {"comparisons": cost[-1]["cumulative_comparisons"] if cost else 0,
                "comparisons_per_record": cost[-1]["comparisons_per_record"] if cost else 0.0,
                "blocking_analysis": dg.MetadataValue.md("| rule | added | cumulative | per record |\n|---|---|---|---|\n" + "\n".join(
                    f"| `{c['rule']}` | {c['marginal_comparisons']:,} | {c['cumulative_comparisons']:,} | "
                    f"{c['comparisons_per_record']} |" for c in cost))}
        if scores is None:
            context.log.info("no ground truth here: blocking cost measured, nothing else to evaluate")
            return dg.MaterializeResult(metadata={"evaluated": False, **meta})
        meta["evaluated"] = True
        for subset, s in scores.items():
            for metric in ("precision", "recall", "f1", "blocking_recall"):
                meta[f"{subset}_{metric}"] = dg.MetadataValue.float(round(s[metric], 4))
        return dg.MaterializeResult(metadata=meta)

    def overall_metric_above_floor(warehouse: Warehouse, metric: str, floor_key: str) -> dg.AssetCheckResult:
        """Passes when linkage.evaluation's overall `metric` is at least config/linkage.yaml's
        `floor_key` (or when there is no ground truth to evaluate against)."""
        floor = float(load_config()[floor_key])
        with warehouse.connect(read_only=True) as con:
            exists = con.execute("select count(*) from information_schema.columns where table_schema='linkage' "
                                 "and table_name='evaluation' and column_name = ?", [metric]).fetchall()[0][0]
            row = con.execute(f"select {metric} from linkage.evaluation where subset = 'overall'").fetchall() if exists else []
        if not row:
            return dg.AssetCheckResult(passed=True, metadata={"evaluated": False, "reason": "no ground truth"})
        value = float(row[0][0])
        return dg.AssetCheckResult(passed=value >= floor, severity=dg.AssetCheckSeverity.ERROR,
                                   metadata={metric: value, "floor": floor})

    @dg.asset_check(asset=evaluation, blocking=False, retry_policy=transient_retry_policy(),
                    description="Pairwise F1 at least config/linkage.yaml's evaluation_min_f1")
    @final_unless_transient
    def linkage_f1_above_floor(warehouse: Warehouse) -> dg.AssetCheckResult:
        return overall_metric_above_floor(warehouse, "f1", "evaluation_min_f1")

    @dg.asset_check(asset=evaluation, blocking=False,
                    description="Blocking recall (true pairs some prediction rule generates) at least "
                                "config/linkage.yaml's evaluation_min_blocking_recall",
                    retry_policy=transient_retry_policy())
    @final_unless_transient
    def linkage_blocking_recall_above_floor(warehouse: Warehouse) -> dg.AssetCheckResult:
        return overall_metric_above_floor(warehouse, "blocking_recall", "evaluation_min_blocking_recall")

    @dg.asset_check(asset=dg.AssetKey(["core", "dim_person"]), blocking=False,
                    description="Master persons against the generator's true person count (when truth exists): "
                                "within max_person_count_error of config/linkage.yaml",
                    retry_policy=transient_retry_policy())
    @final_unless_transient
    def person_count_against_truth(warehouse: Warehouse) -> dg.AssetCheckResult:
        records = get_settings().truth / "records.parquet"
        with warehouse.connect(read_only=True) as con:
            persons = con.execute("select count(*) from core.dim_person where person_key <> 'unknown'").fetchall()[0][0]
            if not records.exists():
                return dg.AssetCheckResult(passed=True, metadata={"master_persons": persons, "truth": "absent"})
            true_persons = con.execute(
                f"select count(distinct t.person_id) from read_parquet('{records.as_posix()}') t "
                "join intermediate.int_person_mentions m "
                "on m.source = t.source and m.entity = t.entity and m.record_key = t.record_key").fetchall()[0][0]
        error = (persons - true_persons) / true_persons if true_persons else 0.0
        limit = float(load_config()["max_person_count_error"])
        return dg.AssetCheckResult(passed=abs(error) <= limit, severity=dg.AssetCheckSeverity.WARN, metadata={
            "master_persons": persons, "true_persons": true_persons, "relative_error": round(error, 4), "limit": limit})

    return [link_person_mentions, household_links, evaluation, linkage_f1_above_floor,
            linkage_blocking_recall_above_floor, person_count_against_truth]
