"""Full relink or incremental linkage: decided by the linkage asset from what changed.

After every run the warehouse keeps what the registry was linked from: each mention's
fingerprint (a hash of the features the model reads, `linkage.linked_mentions`) and, in
`linkage.linked_state`, the model it was scored with, how pairs became clusters and the
reviewers' decisions applied. The next run links only the new mentions against the registry
(incremental) when nothing else changed: the saved model is the one the registry was linked
with and fits the current settings, clusters are made the same way, no linked mention changed
or disappeared, no review decision was added or changed,
and the new mentions are a small share of the registry. Anything else needs a full relink
(which retrains first when the model is missing or out of date); master person ids are stable
either way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assets.catalog import table_exists
from assets.errors import SijilError
from assets.linkage.model import (BLOCKING_ONLY_FEATURES, MODEL_OUT_OF_DATE, features_sql, mention_features,
                                  model_version)
from assets.linkage.run import MENTIONS, link_mentions

if TYPE_CHECKING:
    import pyarrow as pa

FEATURES_TABLE = "linkage_run_features"  # a run's features, computed once (an Arrow table registered as a view)
DECISIONS_FINGERPRINT_SQL = ("select count(*) || ':' || coalesce(bit_xor(hash(mention_id_l, mention_id_r, lower(decision))), 0) "
                             "from linkage.review_decisions")


@dataclass(frozen=True)
class Decision:
    mode: str  # "full" or "incremental"
    reason: str
    new_mentions: int | None = None


def fingerprints_sql(features: str) -> str:
    """Each mention's fingerprint: a hash of the features the model compares (not of those that
    only choose the pairs, such as how many records share a name, which new records change)."""
    kept = f"(select * exclude ({', '.join(BLOCKING_ONLY_FEATURES)}) from {features})"
    return f"select f.unique_id as mention_id, hash(f) as fingerprint from {kept} f"


def model_fingerprint(model_path: Path) -> str | None:
    """Hash of the saved model file (its trained parameters included); None when there is none."""
    return hashlib.sha256(model_path.read_bytes()).hexdigest()[:16] if model_path.exists() else None


def clustering_fingerprint(config: dict) -> str:
    """Hash of what turns scored pairs into clusters: the automatic-link threshold and the conflicts
    that split a cluster (the model's version covers the rest)."""
    text = json.dumps({"auto_link": config["thresholds"]["auto_link"], "conflicts": config.get("conflicts")},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def decisions_fingerprint(con) -> str:
    return con.execute(DECISIONS_FINGERPRINT_SQL).fetchall()[0][0] if table_exists(con, "linkage", "review_decisions") \
        else "0:0"


def decide(con, config: dict, model_path: Path, retrain: bool = False, full_relink: bool = False,
           features: str | None = None) -> Decision:
    """Whether this run can link only the new mentions, and why (or why not). `features`: the
    mentions' features, when the run has already computed them."""
    features = features or f"({features_sql(config, MENTIONS)})"
    if retrain:
        return Decision("full", "retraining the model was asked for")
    if full_relink:
        return Decision("full", "a full relink was asked for")
    if not model_path.exists():
        return Decision("full", "no trained model yet")
    saved = json.loads(model_path.read_text(encoding="utf-8"))
    if saved.get("sijil_model_version") != model_version(config):
        return Decision("full", MODEL_OUT_OF_DATE)
    if not all(table_exists(con, "linkage", t) for t in ("person_clusters", "linked_mentions", "linked_state")):
        return Decision("full", "no linked registry to add to")
    state = dict(con.execute("select key, value from linkage.linked_state").fetchall())
    if state.get("model_fingerprint") != model_fingerprint(model_path):
        return Decision("full", "the model changed since the registry was linked")
    if state.get("clustering_fingerprint") != clustering_fingerprint(config):
        return Decision("full", "the automatic-link threshold or the conflicts that split clusters changed")
    if state.get("decisions_fingerprint") != decisions_fingerprint(con):
        return Decision("full", "review decisions were added or changed")
    changed, new, linked = con.execute(f"""
        with now as ({fingerprints_sql(features)})
        select count(*) filter (where l.mention_id is not null and n.fingerprint is distinct from l.fingerprint),
               count(*) filter (where l.mention_id is null),
               count(*) filter (where l.mention_id is not null)
        from now n full join linkage.linked_mentions l using (mention_id)
    """).fetchall()[0]
    if changed:
        return Decision("full", f"{changed:,} linked mentions changed or were removed since the last run")
    share = float((config.get("incremental") or {}).get("max_new_share", 0.25))
    if new > share * linked:
        return Decision("full", f"{new:,} new mentions against {linked:,} linked: more than {share:.0%}, "
                                "a full relink scores them better", new)
    return Decision("incremental", f"{new:,} new mentions against {linked:,} linked, nothing else changed", new)


def require_incremental(decision: Decision) -> None:
    """Raise when an incremental run was asked for but cannot be done."""
    if decision.mode != "incremental":
        raise SijilError(f"incremental linkage is not possible: {decision.reason}; run a full linkage instead")


def record_state(con, config: dict, model_path: Path, mode: str, features: str) -> str:
    """Remember what the registry is now linked from (run after a successful linkage); `features`:
    the mentions' features the run linked. Returns the linkage's id (`linkage_id`, new every run)."""
    con.execute(f"create or replace table linkage.linked_mentions as {fingerprints_sql(features)}")
    linkage_id = str(uuid.uuid4())
    rows = {"model_fingerprint": model_fingerprint(model_path), "clustering_fingerprint": clustering_fingerprint(config),
            "decisions_fingerprint": decisions_fingerprint(con), "linkage_id": linkage_id,
            "mode": mode, "linked_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    con.execute("create or replace table linkage.linked_state (key varchar primary key, value varchar)")
    con.executemany("insert into linkage.linked_state values (?, ?)", list(rows.items()))
    return linkage_id


# The features the last linkage in this process read, under its linkage id and their SQL: the
# evaluation, the next step of the same run, reads them instead of computing them again (6 s at
# 1,000,000 persons). One entry at most; it is taken out when read.
_LINKED_FEATURES: dict[tuple[str, str], pa.Table] = {}


def linked_features(con, config: dict) -> pa.Table:
    """The features (`features_sql(config)`) of the warehouse's mentions: those its last linkage
    read when that linkage ran in this process (its id in linkage.linked_state, the features' SQL
    and the number of mentions match), computed from the warehouse otherwise."""
    state = dict(con.execute("select key, value from linkage.linked_state").fetchall()) \
        if table_exists(con, "linkage", "linked_state") else {}
    handed = _LINKED_FEATURES.pop((state.get("linkage_id", ""), features_sql(config, MENTIONS)), None)
    _LINKED_FEATURES.clear()
    if handed is not None and handed.num_rows == con.execute(f"select count(*) from {MENTIONS}").fetchall()[0][0]:
        return handed
    return mention_features(con, config, MENTIONS)


def link_registry(con, config: dict, model_path: Path, retrain: bool = False, full_relink: bool = False,
                  incremental: bool = False, accept_large_batch: bool = False):
    """Link the warehouse's mentions the way `decide` chooses (`incremental` insists on the
    incremental path); records the state the next run decides from. Returns the decision and
    the run's result (a LinkResult or an IncrementalResult)."""
    from assets.linkage.incremental import link_new_mentions

    # The features of every mention, computed once: the decision, the linkage (either path) and the
    # recorded state all read them (three passes over the registry before; 8 s each at 2 M mentions).
    features = mention_features(con, config, MENTIONS)
    con.register(FEATURES_TABLE, features)
    try:
        decision = decide(con, config, model_path, retrain=retrain, full_relink=full_relink, features=FEATURES_TABLE)
        if incremental:
            require_incremental(decision)
        if decision.mode == "incremental":
            result = link_new_mentions(con, config, model_path, accept_large_batch=accept_large_batch,
                                       features=features)
        else:
            result = link_mentions(con, config, model_path, retrain=retrain, accept_large_batch=accept_large_batch,
                                   features=features)
        linkage_id = record_state(con, config, model_path, decision.mode, features=FEATURES_TABLE)
    finally:
        con.unregister(FEATURES_TABLE)
    _LINKED_FEATURES.clear()
    _LINKED_FEATURES[(linkage_id, features_sql(config, MENTIONS))] = features
    return decision, result
