"""Measure the linkage stage at national scale: full relink, incremental batch, evaluation.

Copies intermediate.int_person_mentions (read-only) from a built warehouse — FACTOR times when
FACTOR > 1: each copy a population of its own (national numbers, phones, household and
record keys made unique per copy, birth dates of copy k moved back by k·400 days, so that two
copies of a person differ in identifier and birth year; names left as they are, so name
blocks grow with the population as they would) — and the matching ground
truth; with --persons-share S (0 < S < 1) only that share of the persons (chosen by hash of
their id), to measure a registry of a given size. Then, each in a process of its own, reporting wall and CPU seconds and peak memory:

  train        BATCH random mentions held back; a full linkage of the rest that trains the
               model (on training.max_records records at most)
  relink       a full relink with the saved model (the per-run cost; nothing retrained)
  incremental  the held-back batch arrives: the linkage takes the incremental path by itself
               (predict_between against the linked registry)
  evaluate     the linkage/evaluation asset's work: blocking analysis, then accuracy and blocking
               recall against the truth, overall, without a national number, by sex, and without a
               national number by sex

    .venv/bin/python tests/perf/linkage_at_scale.py WAREHOUSE.duckdb TRUTH_DIR [FACTOR] [--batch 10000] [--seed N] [--max-records N] [--u-max-pairs N] [--persons-share S]

--seed sets training.seed (which records train the model, and Splink's sampling),
--max-records training.max_records (0: every record) and --u-max-pairs training.u_max_pairs:
train and evaluate with several to see how much accuracy depends on the training samples.

Scratch files go to $TMPDIR/sijil_linkage_scale. Not a test: a measuring tool.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
SCRATCH = Path(tempfile.gettempdir()) / "sijil_linkage_scale"
MENTIONS = "intermediate.int_person_mentions"


def prepare(source: Path, truth_dir: Path, factor: int, share: float, db: Path) -> None:
    con = duckdb.connect(str(db))
    con.execute(f"attach '{source}' as src (read_only)")
    con.execute("create schema if not exists intermediate; create schema if not exists linkage")
    suffix = "case when k = 0 then '' else '~' || k end"
    con.execute(f"""
        create table {MENTIONS} as
        select m.* replace (
                   m.mention_id || {suffix} as mention_id, m.record_key || {suffix} as record_key,
                   m.household_ref || {suffix} as household_ref,
                   -- three letters per copy: two copies' numbers differ in three characters, never in the
                   -- one digit the model forgives as a typing slip
                   case when k = 0 then m.national_id else m.national_id || repeat(chr(cast(64 + k as integer)), 3) end as national_id,
                   case when k = 0 then m.phone else substr(m.phone, 1, 3) || lpad(cast(k as varchar), 2, '0') || substr(m.phone, 6) end as phone,
                   m.birth_date - to_days(cast(k * 400 as integer)) as birth_date,
                   case when k = 0 then m.birth_date_is_jan1 else false end as birth_date_is_jan1)
        from src.{MENTIONS} m, range({factor}) r(k)
    """)
    con.execute(f"""
        create table truth as
        select m.mention_id || case when k = 0 then '' else '~' || k end as mention_id, t.person_id || '~' || k as person,
               m.national_id, m.sex
        from src.{MENTIONS} m
        join read_parquet('{truth_dir / 'records.parquet'}') t
          on t.source = m.source and t.entity = m.entity and t.record_key = m.record_key, range({factor}) r(k)
    """)
    if share < 1:
        con.execute(f"delete from truth where hash(person) % 10000 >= {round(share * 10000)}")
        con.execute(f"delete from {MENTIONS} where mention_id not in (select mention_id from truth)")
    con.close()


def run_step(step: str, db: Path, batch: int, training: dict) -> dict:
    """One step in this process (called by the child)."""
    from assets.linkage.blocking import comparisons_per_rule
    from assets.linkage.evaluate import subset_scores
    from assets.linkage.mode import link_registry
    from assets.linkage.model import load_config, mention_features

    config = load_config()
    config["batch_safeguard"]["min_new_records"] = 10**9  # a benchmark, not a check of the batch
    config["training"].update(training)
    model = db.parent / "model.json"
    con = duckdb.connect(str(db))
    started = time.perf_counter()
    out: dict = {"step": step, "mentions": con.execute(f"select count(*) from {MENTIONS}").fetchall()[0][0]}
    if step in ("train", "relink"):
        if step == "train":  # the batch the incremental step adds is held back from here on
            con.execute(f"create or replace table held_back as select * from {MENTIONS} "
                        f"using sample reservoir({batch} rows) repeatable (7)")
            con.execute(f"delete from {MENTIONS} where mention_id in (select mention_id from held_back)")
            out["mentions"] -= batch
        decision, result = link_registry(con, config, model, retrain=step == "train", full_relink=True)
        out.update(mode=decision.mode, pairs_scored=result.pairs_scored, clusters=result.clusters,
                   retrained=result.retrained, phases_wall_s=result.seconds, phases_cpu_s=result.cpu_seconds)
    elif step == "incremental":
        con.execute(f"insert into {MENTIONS} select * from held_back")
        decision, result = link_registry(con, config, model)
        out.update(mode=decision.mode, reason=decision.reason, new_records=result.new_records,
                   joined_existing=result.joined_existing, new_persons=result.new_persons,
                   phases_wall_s=result.seconds, phases_cpu_s=result.cpu_seconds)
        con.execute("drop table held_back")
    elif step == "evaluate":
        features = mention_features(con, config, MENTIONS)
        con.register("features", features)
        cost = comparisons_per_rule(config, features)
        out["comparisons_per_record"] = cost[-1]["comparisons_per_record"]
        con.execute("create or replace temp view clusters as "
                    "select mention_id, master_person_id as cluster from linkage.person_clusters")
        for name, scores in subset_scores(con, "clusters", "truth", "features", config).items():
            out[name] = {k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()}
    out["wall_s"] = round(time.perf_counter() - started, 1)
    return out


def main() -> None:
    args = sys.argv[1:]
    if args[0] == "--step":
        print(json.dumps(run_step(args[1], Path(args[2]), int(args[3]), json.loads(args[4]))))
        return
    options = {}
    for name in ("--batch", "--seed", "--max-records", "--u-max-pairs", "--persons-share"):
        if name in args:
            at = args.index(name)
            options[name] = float(args[at + 1]) if name == "--persons-share" else int(args[at + 1])
            del args[at:at + 2]
    batch = options.get("--batch", 10_000)
    training = {key: options[name] for key, name in (("seed", "--seed"), ("max_records", "--max-records"),
                                                     ("u_max_pairs", "--u-max-pairs")) if name in options}
    source, truth_dir = Path(args[0]), Path(args[1])
    factor = int(args[2]) if len(args) > 2 else 1
    steps = os.environ.get("STEPS", "train,relink,incremental,evaluate").split(",")
    SCRATCH.mkdir(parents=True, exist_ok=True)
    share = options.get("--persons-share", 1.0)
    db = SCRATCH / (f"mentions_x{factor}.duckdb" if share == 1 else f"mentions_x{factor}_share{share}.duckdb")
    if not db.exists():
        prepare(source, truth_dir, factor, share, db)
    for step in steps:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, __file__, "--step", step, str(db), str(batch), json.dumps(training)],
                                 stdout=subprocess.PIPE, text=True)
        output = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)  # this child's own resource use
        if status:
            raise SystemExit(f"step {step} failed")
        result = json.loads(output.strip().splitlines()[-1])
        result.update(training=training, process_wall_s=round(time.perf_counter() - started, 1),
                      process_cpu_s=round(usage.ru_utime + usage.ru_stime, 1), peak_rss_mb=round(usage.ru_maxrss / 1024))
        print(json.dumps(result), flush=True)

if __name__ == "__main__":
    main()
