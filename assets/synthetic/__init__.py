"""Synthetic population generator: a country's people and every agency's noisy export of them.

`generate(profile, persons, seed, out, as_of)` writes

- ``out/inbox/<source>/<file>``: each source entity exactly as its contract describes (agency
  headers, format, encoding), named ``<pattern stem>_<as_of YYYYMMDD>.<ext>``;
- ``out/truth/`` (Parquet), which the pipeline never reads except to evaluate itself:

  - ``persons``: person_id, household_id, relation_to_head (head / spouse / child), first_name,
    father_name, grandfather_name, family_name (clean Arabic), sex, birth_date,
    birth_date_is_placeholder, age, national_id (citizens), moi_card_no (refugees), is_refugee,
    nationality, governorate_code, has_disability, disability_severity, is_twin, in_school,
    is_formal_worker, is_pensioner;
  - ``households``: household_id, governorate_code, size, is_refugee, nationality,
    consumption_pc_month, is_poor (below the profile's poverty line), quintile, phone,
    family_book_no, unhcr_case, head_person_id, head_sex, naf_household_id (when on the
    profile's main cash programme);
  - ``records``: source, entity, record_key, person_id, household_id for every person-grain
    record (record_key is the contract's key; for person-month or person-year entities the
    person-level id such as insured_no or student_id);
  - ``population_estimates`` (year, governorate_code, sex, age_from, age_to, true_persons,
    persons) and ``household_estimates`` (year, governorate_code, true_households, households):
    the statistics office's estimates as written to the inbox (``persons``, ``households``)
    beside the true counts they were projected from (see reference_population.py);
  - ``injected_defects``: source, entity, record_key, defect — rows broken on purpose
    (missing_required, negative_amount, impossible_date, duplicate_key, value_not_allowed)
    that ingestion must quarantine.

With `next_month`, the rows each agency adds in a month (the profile's synthetic.yaml,
`next_month`: a share of an entity's rows, chosen by a hash of the row's key) are held back
from the inbox and written to ``out/next_month/<source>/<file>``, dated `as_of`, while the
inbox's files are dated the month-end before: a warehouse refreshed from the inbox, then from
the inbox with the next month's files added, is the refresh after a new month of files. The
truth covers both.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from assets.profiles import load_profile
from assets.synthetic.population import build_population
from assets.synthetic.sources import SourceBuilder
from assets.synthetic.writer import write_entity
from assets.synthetic.writers import run_writers


def default_as_of(today: dt.date | None = None) -> dt.date:
    """The last day of the previous month: the extraction date of a monthly export."""
    today = today or dt.date.today()
    first = today.replace(day=1)
    return first - dt.timedelta(days=1)


def held_back(frame: pd.DataFrame, entity, share: float) -> pd.Series:
    """Which rows of `frame` the next month brings: a `share` of them, by a hash of their key."""
    key = pd.util.hash_pandas_object(frame[list(entity.primary_key)].astype(str), index=False)
    return pd.Series((key.to_numpy() % 10_000) < round(share * 10_000), index=frame.index)


def generate(profile: str, persons: int, seed: int, out: Path, as_of: dt.date | None = None,
             next_month: bool = False) -> dict:
    """Write a synthetic population's agency exports and ground truth under `out` (with
    `next_month`, the next month's files apart: see the module's docstring)."""
    started = time.monotonic()
    if persons < 50:
        raise ValueError("a sample needs at least 50 persons")
    as_of = as_of or default_as_of()
    prof = load_profile(profile)
    rules = yaml.safe_load((prof.directory / "synthetic.yaml").read_text(encoding="utf-8"))
    rng = np.random.default_rng(seed)
    households, people = build_population(prof, rules, persons, rng, as_of)

    builder = SourceBuilder(prof, rules, households, people, rng, as_of)
    run_writers(builder, rules.get("writers") or [])
    households = builder.hh
    if builder.cash is not None:  # the cash programme's own household ids, for evaluation
        ids = [c for c in builder.cash.columns if c.endswith("_household_id") and c != "household_id"]
        households = households.merge(builder.cash[["household_id", *ids]], on="household_id", how="left")

    out = Path(out)
    inbox, truth, later = out / "inbox", out / "truth", out / "next_month"
    for directory in (inbox, truth, later):
        if directory.exists():
            shutil.rmtree(directory)
    files, next_files = {}, {}
    exports = rules.get("exports", {})
    shares = (rules.get("next_month") or {}) if next_month else {}
    unknown = set(shares) - {e.table for c in prof.sources for e in c.entities}
    if unknown:
        raise ValueError(f"synthetic.yaml: next_month names no entity of the profile: {sorted(unknown)}")
    inbox_as_of = as_of.replace(day=1) - dt.timedelta(days=1) if next_month else as_of
    for contract in prof.sources:
        for entity in contract.entities:
            frame = builder.out.frames.get((contract.source, entity.name))
            if frame is None:
                raise ValueError(f"the generator has no rule for {entity.table}")
            if entity.table in shares:
                later_rows = held_back(frame, entity, float(shares[entity.table]))
                path = write_entity(frame[later_rows], entity, later / contract.source, as_of,
                                    exports.get(contract.source))
                next_files[str(path.relative_to(out))] = int(later_rows.sum())
                frame = frame[~later_rows]
            path = write_entity(frame, entity, inbox / contract.source, inbox_as_of, exports.get(contract.source))
            files[str(path.relative_to(out))] = len(frame)
    truth.mkdir(parents=True)
    people.to_parquet(truth / "persons.parquet", index=False)
    households.to_parquet(truth / "households.parquet", index=False)
    if builder.estimates is not None:
        population, household_counts = builder.estimates
        population.to_parquet(truth / "population_estimates.parquet", index=False)
        household_counts.to_parquet(truth / "household_estimates.parquet", index=False)
    pd.concat(builder.out.records, ignore_index=True).to_parquet(truth / "records.parquet", index=False)
    pd.concat(builder.out.defects, ignore_index=True).to_parquet(truth / "injected_defects.parquet", index=False)
    return {
        "profile": profile, "persons": len(people), "households": len(households),
        "as_of": as_of.isoformat(), "files": files, "next_month_files": next_files,
        "seconds": time.monotonic() - started,
    }
