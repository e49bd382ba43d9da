"""The statistics office's population estimates for the synthetic country: the external
denominators of the coverage indicators (reference/indicators.md: ref_population, ref_households).

They come from the true population, not from any agency's records: persons alive at the end of
each year by governorate, sex and age band, and households by governorate, each cell then off by
a projection error (the writer's `projection_error` in synthetic.yaml, a share drawn per
cell between the two bounds, up or down) — a projection of another vintage than the registry.
Age bands end at every age-group limit the indicators use (0–4, 5–17, 18–24, 25–59, 60+; ILO
0–14, 15–64, 65+; the profile's pensionable age), so each band falls in exactly one group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SOURCE = "population_estimates"
AGE_GROUP_LIMITS = (5, 15, 18, 25, 60, 65)


def age_bands(pensionable_age: int) -> list[tuple[int, int | None]]:
    """(age_from, age_to) bands, the last one open-ended, with a limit at every group boundary."""
    starts = sorted({0, *AGE_GROUP_LIMITS, int(pensionable_age)})
    return [(a, b - 1) for a, b in zip(starts, starts[1:])] + [(starts[-1], None)]


def age_at_year_end(birth_dates: pd.Series, year: int) -> np.ndarray:
    """Completed age on 31 December of `year` (negative when born later)."""
    born = pd.to_datetime(birth_dates)
    return (year - born.dt.year).to_numpy()


def _projected(counts: np.ndarray, rng: np.random.Generator, bounds: tuple[float, float]) -> np.ndarray:
    low, high = (float(b) for b in bounds)
    error = rng.uniform(low, high, len(counts)) * rng.choice([-1.0, 1.0], len(counts))
    return np.maximum(np.rint(counts * (1 + error)), 0).astype("int64")


def estimate_tables(people: pd.DataFrame, households: pd.DataFrame, years: list[int], pensionable_age: int,
                    governorates: list[str], rng: np.random.Generator,
                    projection_error: tuple[float, float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(population, households) estimates with their true counts: one row per year × governorate
    × sex × age band (every combination, zeros included), and per year × governorate."""
    bands = age_bands(pensionable_age)
    starts = np.array([a for a, _ in bands])
    frames, homes = [], []
    for year in years:
        age = age_at_year_end(people["birth_date"], year)
        alive = people[age >= 0].assign(age_from=starts[np.searchsorted(starts, age[age >= 0], side="right") - 1])
        counts = alive.groupby(["governorate_code", "sex", "age_from"]).size()
        grid = pd.MultiIndex.from_product([governorates, ["M", "F"], starts], names=counts.index.names)
        frame = counts.reindex(grid, fill_value=0).rename("true_persons").reset_index()
        frame.insert(0, "year", year)
        frame["age_to"] = frame["age_from"].map(dict(bands))
        frames.append(frame)
        present = households[households.household_id.isin(alive.household_id)]
        home = present.groupby("governorate_code").size().reindex(governorates, fill_value=0)
        homes.append(pd.DataFrame({"year": year, "governorate_code": governorates, "true_households": home.to_numpy()}))
    population = pd.concat(frames, ignore_index=True)
    population["persons"] = _projected(population["true_persons"].to_numpy(), rng, projection_error)
    homes = pd.concat(homes, ignore_index=True)
    homes["households"] = _projected(homes["true_households"].to_numpy(), rng, projection_error)
    return population, homes


def population_estimates(b, spec: dict) -> None:
    """The writer of the estimates: add their two exports to the SourceBuilder `b` (for the years
    of its payment months) and keep the estimate tables with their true counts in `b.estimates`,
    for the ground truth. Listed last among the writers, so the agencies' files do not depend on it."""
    source = spec.get("source", SOURCE)
    years = list(range(b.months[0].year, b.months[-1].year + 1))
    codes = [g["code"] for g in b.profile.governorates]
    population, homes = estimate_tables(b.people, b.hh, years, int(b.profile.pensionable_age), codes, b.rng,
                                        tuple(spec.get("projection_error", (0.01, 0.03))))
    name = {code: b.aliases[code][0] for code in codes}
    sex = {"M": "ذكر", "F": "أنثى"}
    b.out.add(source, "population", pd.DataFrame({
        "year": population["year"].astype(str), "governorate": population["governorate_code"].map(name),
        "sex": population["sex"].map(sex), "age_from": population["age_from"].astype(str),
        "age_to": population["age_to"].map(lambda v: None if pd.isna(v) else str(int(v))),
        "persons": population["persons"].astype(str)}))
    b.out.add(source, "households", pd.DataFrame({
        "year": homes["year"].astype(str), "governorate": homes["governorate_code"].map(name),
        "households": homes["households"].astype(str)}))
    b.estimates = (population, homes)
