"""Measure `sijil dedupe` on a file of RECORDS records whose duplicates are known.

Builds the file from a generated civil registry export (one row per person): every person
once, then noisy copies of randomly chosen persons until RECORDS rows — the national number
blanked in half of them, spelling variants of names (taa marbuta, hamza, a dropped article), a
day-month swap or a one-digit slip in the birth date — shuffled, under record ids that say
nothing. Then runs the command in a process of its own and prints wall and CPU seconds, peak
memory, and pairwise precision and recall of its clusters. Not a test: a measuring tool.

    .venv/bin/python tests/perf/dedupe_at_scale.py CIVIL_REGISTRY.csv [RECORDS] [-- extra dedupe arguments]

e.g. with the civil registry of `sijil generate --persons 1000000`: 880,366 persons, 1,000,000 records.
Scratch files go to $TMPDIR/sijil_dedupe_scale.
"""

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from assets.linkage.evaluate import pairwise_scores

ROOT = Path(__file__).resolve().parents[2]
SCRATCH = Path(tempfile.gettempdir()) / "sijil_dedupe_scale"
ROLES = {"national_id": "NATIONAL_NO", "first_name": "FIRST_NAME", "father_name": "FATHER_NAME",
         "grandfather_name": "GRANDFATHER_NAME", "family_name": "FAMILY_NAME", "birth_date": "BIRTH_DATE", "sex": "SEX"}


def build(civil: Path, records: int, out: Path, truth: Path) -> None:
    con = duckdb.connect()
    con.execute("select setseed(0.42)")
    con.execute(f"create table persons as select row_number() over () as person, * "
                f"from read_csv('{civil}', all_varchar = true, header = true)")
    persons = con.execute("select count(*) from persons").fetchall()[0][0]
    copies = max(records - persons, 0)
    con.execute(f"""
        create table copies as
        with picked as (select *, random() as r1, random() as r2, random() as r3
                        from persons using sample {copies} rows (reservoir, 7))
        select person,
               case when r1 < 0.5 then null else NATIONAL_NO end as NATIONAL_NO,
               case when r2 < 0.25 then replace(replace(FIRST_NAME, 'ة', 'ه'), 'أ', 'ا')
                    when r2 < 0.35 then replace(FIRST_NAME, 'ي', 'ى') else FIRST_NAME end as FIRST_NAME,
               FATHER_NAME,
               case when r3 < 0.3 then null else GRANDFATHER_NAME end as GRANDFATHER_NAME,
               case when r2 > 0.8 then regexp_replace(FAMILY_NAME, '^ال', '') else FAMILY_NAME end as FAMILY_NAME,
               case when r3 > 0.9 and try_cast(BIRTH_DATE as date) is not null and day(BIRTH_DATE::date) <= 12
                    then strftime(make_date(year(BIRTH_DATE::date), day(BIRTH_DATE::date), month(BIRTH_DATE::date)), '%Y-%m-%d')
                    when r3 between 0.8 and 0.9 and BIRTH_DATE is not null
                    then left(BIRTH_DATE, 3) || ((cast(substr(BIRTH_DATE, 4, 1) as int) + 1) % 10) || substr(BIRTH_DATE, 5)
                    else BIRTH_DATE end as BIRTH_DATE,
               SEX
        from picked
    """)
    con.execute(f"""
        create table shuffled as
        select 'R' || lpad(cast(row_number() over (order by shuffle) as varchar), 8, '0') as REC_ID, * exclude (shuffle)
        from (select *, random() as shuffle from (
                  select person, NATIONAL_NO, FIRST_NAME, FATHER_NAME, GRANDFATHER_NAME, FAMILY_NAME, BIRTH_DATE, SEX
                  from persons union all select * from copies))
    """)
    con.execute(f"copy (select * exclude (person) from shuffled) to '{out}' (header, delimiter ',')")
    con.execute(f"copy (select REC_ID as record_id, person from shuffled) to '{truth}' (format parquet)")


def main() -> None:
    args = sys.argv[1:]
    extra = args[args.index("--") + 1:] if "--" in args else []
    args = args[:args.index("--")] if "--" in args else args
    civil, records = Path(args[0]), int(args[1]) if len(args) > 1 else 1_000_000
    SCRATCH.mkdir(parents=True, exist_ok=True)
    data, truth, out = SCRATCH / f"persons_{records}.csv", SCRATCH / f"truth_{records}.parquet", SCRATCH / "clusters.csv"
    if not data.exists():
        build(civil, records, data, truth)
    command = [str(ROOT / ".venv" / "bin" / "sijil"), "dedupe", str(data), "--id-column", "REC_ID",
               *[f"--map={role}={column}" for role, column in ROLES.items()], "--out", str(out), *extra]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    con = duckdb.connect()
    scores = pairwise_scores(
        con, f"(select record_id as mention_id, cluster_id as cluster from read_csv('{out}', all_varchar = true))",
        f"(select record_id as mention_id, person from read_parquet('{truth}'))")
    print(json.dumps({"records": scores["records"], "wall_s": round(wall, 1),
                      "cpu_s": round(usage.ru_utime + usage.ru_stime, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024),
                      "true_pairs": scores["true_pairs"], "precision": round(scores["precision"], 4),
                      "recall": round(scores["recall"], 4)}, indent=2))


if __name__ == "__main__":
    main()
