"""The statistics office's population estimates the generator writes: age bands that fit every
indicator age group, true counts from the population, a bounded projection error, and a file
that says exactly what the truth says it wrote."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from assets.synthetic import generate
from assets.synthetic.reference_population import age_at_year_end, age_bands, estimate_tables

D = dt.date


def test_age_bands_end_at_every_group_limit_and_the_pensionable_age():
    assert age_bands(60) == [(0, 4), (5, 14), (15, 17), (18, 24), (25, 59), (60, 64), (65, None)]
    assert (60, 62) in age_bands(63) and (63, 64) in age_bands(63)


def test_age_at_year_end_counts_births_up_to_31_december():
    ages = age_at_year_end(pd.Series([D(2000, 12, 31), D(2025, 1, 1), D(2026, 3, 1)]), 2025)
    assert list(ages) == [25, 0, -1]


def _people():
    return pd.DataFrame({
        "person_id": ["P1", "P2", "P3", "P4", "P5"], "household_id": ["H1", "H1", "H2", "H2", "H3"],
        "governorate_code": ["AM", "AM", "IR", "IR", "IR"], "sex": ["M", "F", "F", "M", "F"],
        "birth_date": [D(1950, 6, 1), D(2022, 1, 1), D(2010, 5, 5), D(1990, 1, 1), D(2025, 6, 1)]})


def _households():
    return pd.DataFrame({"household_id": ["H1", "H2", "H3"], "governorate_code": ["AM", "IR", "IR"]})


def test_true_counts_cover_every_cell_and_only_persons_born_by_the_year_end():
    population, homes = estimate_tables(_people(), _households(), [2024, 2025], 60, ["AM", "IR"],
                                        np.random.default_rng(1), (0.0, 0.0))
    assert len(population) == 2 * 2 * 2 * len(age_bands(60))  # years × governorates × sexes × bands, zeros included
    assert (population.persons == population.true_persons).all()  # no projection error asked
    by_year = population.groupby("year").true_persons.sum().to_dict()
    assert by_year == {2024: 4, 2025: 5}  # P5 is born in 2025
    cell = population.query("year == 2025 and governorate_code == 'AM' and sex == 'M' and age_from == 65")
    assert cell.true_persons.tolist() == [1] and cell.age_to.isna().all()  # P1, 75, in the open band
    assert homes.set_index(["year", "governorate_code"]).true_households.to_dict() == {
        (2024, "AM"): 1, (2024, "IR"): 1, (2025, "AM"): 1, (2025, "IR"): 2}  # H3 exists once P5 is born


def test_projection_error_stays_within_its_bounds_and_is_seeded():
    people = pd.DataFrame({
        "person_id": [f"P{i}" for i in range(20000)], "household_id": [f"H{i // 4}" for i in range(20000)],
        "governorate_code": np.where(np.arange(20000) % 2 == 0, "AM", "IR"),
        "sex": np.where(np.arange(20000) % 3 == 0, "M", "F"),
        "birth_date": [D(1940 + i % 80, 6, 1) for i in range(20000)]})
    households = pd.DataFrame({"household_id": [f"H{i}" for i in range(5000)],
                               "governorate_code": np.where(np.arange(5000) % 2 == 0, "AM", "IR")})
    args = (people, households, [2025], 60, ["AM", "IR"])
    population, homes = estimate_tables(*args, np.random.default_rng(3), (0.01, 0.03))
    large = population[population.true_persons >= 500]
    error = (large.persons - large.true_persons).abs() / large.true_persons
    assert len(large) > 10 and error.between(0.009, 0.031).all()
    assert ((homes.households - homes.true_households).abs() / homes.true_households).between(0.009, 0.031).all()
    again, _ = estimate_tables(*args, np.random.default_rng(3), (0.01, 0.03))
    assert again.persons.tolist() == population.persons.tolist()


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("estimates")
    generate("jordan", 600, 4, out, as_of=D(2025, 12, 31))
    return out


def test_the_file_carries_the_estimates_the_truth_records(sample):
    inbox = sample / "inbox" / "population_estimates"
    written = pd.read_csv(next(inbox.glob("dos_population_*.csv")), dtype=str, keep_default_na=False)
    truth = pd.read_parquet(sample / "truth" / "population_estimates.parquet")
    assert list(written.columns) == ["YEAR", "GOVERNORATE", "SEX", "AGE_FROM", "AGE_TO", "PERSONS"]
    assert written.PERSONS.astype(int).sum() == truth.persons.sum()
    assert set(written.YEAR.astype(int)) == {2024, 2025}  # the years of the payment months
    persons = pd.read_parquet(sample / "truth" / "persons.parquet")
    born = pd.to_datetime(persons.birth_date).dt.year <= 2025
    assert truth.query("year == 2025").true_persons.sum() == born.sum()
    homes = pd.read_csv(next(inbox.glob("dos_households_*.csv")), dtype=str)
    assert homes.HOUSEHOLDS.astype(int).sum() == pd.read_parquet(sample / "truth" / "household_estimates.parquet").households.sum()
