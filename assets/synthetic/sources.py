"""Each agency's export as a noisy view of the true population.

`build_sources` returns, per (source, entity), a frame with the contract's canonical column
names (text or typed values; the writer renders them), plus the ground truth that ties every
person-grain record to its person and every injected defect to its record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from assets.synthetic import noise
from assets.synthetic.names import NameSampler

ISO = {"%Y-%m-%d": 1.0}
MIXED = {"%Y-%m-%d": 0.6, "%d/%m/%Y": 0.3, "%Y%m%d": 0.1}
SLASHED = {"%d/%m/%Y": 0.8, "%Y-%m-%d": 0.2}


@dataclass
class NoiseRates:
    """How error-prone one agency's data entry is."""

    spelling: float = 0.08
    typo: float = 0.02
    missing_grandfather: float = 0.10
    missing_father: float = 0.0
    id_missing: float = 0.03
    id_typo: float = 0.01
    indic_digits: float = 0.02
    date_swap: float = 0.01
    sex_error: float = 0.005
    dates: dict = field(default_factory=lambda: dict(MIXED))


@dataclass
class Generated:
    frames: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)
    records: list[pd.DataFrame] = field(default_factory=list)
    defects: list[pd.DataFrame] = field(default_factory=list)

    def add(self, source: str, entity: str, frame: pd.DataFrame, key: str | None = None,
            person_ids: pd.Series | None = None, household_ids: pd.Series | None = None) -> None:
        self.frames[(source, entity)] = frame.reset_index(drop=True)
        if person_ids is not None:
            self.records.append(pd.DataFrame({
                "source": source, "entity": entity, "record_key": frame[key].to_numpy(),
                "person_id": person_ids.to_numpy(), "household_id": household_ids.to_numpy(),
            }).drop_duplicates("record_key"))


class SourceBuilder:
    """Builds every source of a profile from the truth; one method per source."""

    def __init__(self, profile, rules, households, people, rng, as_of: dt.date):
        self.profile, self.rules, self.rng, self.as_of = profile, rules, rng, as_of
        self.hh, self.people = households, people
        self.names = NameSampler(rules, rng)
        self.out = Generated()
        self.cash: pd.DataFrame | None = None  # the households of the profile's cash programme, once written
        self.estimates: tuple[pd.DataFrame, pd.DataFrame] | None = None  # population estimates with true counts
        end = pd.Period(as_of, "M")
        self.months = pd.period_range(end=end - 1 if as_of.day < 28 else end, periods=24, freq="M")
        self.aliases = {g["code"]: [g["name_ar"], g["name_en"], *g.get("aliases", [])] for g in profile.governorates}

    def require_cash(self, spec: dict) -> pd.DataFrame:
        """The cash programme's households, for a writer that depends on them."""
        if self.cash is None:
            raise ValueError(f"synthetic.yaml: the writer for {spec.get('source')!r} needs a cash-programme writer listed before it")
        return self.cash

    # ---- shared pieces -------------------------------------------------------------
    def ids(self, prefix: str, n: int, width: int = 8) -> np.ndarray:
        start = int(self.rng.integers(10**5, 10**6))
        return np.char.add(prefix, (start + np.arange(n)).astype(str).astype(object).astype(str)).astype(object)

    def governorate_text(self, codes: pd.Series, rate_alias: float = 0.3) -> pd.Series:
        """The governorate as the clerk wrote it: mostly the Arabic name, sometimes an alias."""
        out = []
        draws = self.rng.random(len(codes))
        picks = self.rng.integers(0, 100, len(codes))
        for code, d, p in zip(codes, draws, picks):
            options = self.aliases[code]
            out.append(options[p % len(options)] if d < rate_alias else options[0])
        return pd.Series(out, index=codes.index, dtype=object)

    def person_columns(self, who: pd.DataFrame, rates: NoiseRates, latin: bool = False) -> pd.DataFrame:
        """Names, birth date, sex and national number of `who` as one agency recorded them."""
        rng = self.rng
        cols = {}
        for part in ("first_name", "father_name", "grandfather_name", "family_name"):
            values = who[part].astype(object)
            if latin:
                values = self.names.romanise(values)
                values = noise.typos(values, rng, rates.typo)
            else:
                values = noise.spelling_variants(values, rng, rates.spelling)
                values = noise.typos(values, rng, rates.typo)
            cols[part] = values
        cols["grandfather_name"] = noise.blank(cols["grandfather_name"], rng, rates.missing_grandfather)
        cols["father_name"] = noise.blank(cols["father_name"], rng, rates.missing_father)
        birth = noise.format_dates(who["birth_date"], rng, rates.dates, rates.date_swap)
        cols["birth_date"] = noise.arabic_indic_digits(birth, rng, rates.indic_digits)
        sex = who["sex"].to_numpy().copy()
        flip = rng.random(len(sex)) < rates.sex_error
        sex[flip] = np.where(sex[flip] == "M", "F", "M")
        cols["sex"] = sex
        nid = who["national_id"].astype(object)
        nid = noise.digit_typo(nid, rng, rates.id_typo)
        nid = noise.blank(nid, rng, rates.id_missing)
        cols["national_id"] = noise.arabic_indic_digits(nid, rng, rates.indic_digits)
        return pd.DataFrame(cols, index=who.index).reset_index(drop=True)

    def full_name(self, parts: pd.DataFrame) -> pd.Series:
        cols = [parts[c].fillna("") for c in ("first_name", "father_name", "grandfather_name", "family_name")]
        joined = cols[0].str.cat(cols[1:], sep=" ")
        return joined.str.replace(r"\s+", " ", regex=True).str.strip()

    def phones(self, values: pd.Series, rate_format: float = 0.3, indic: float = 0.03) -> pd.Series:
        values = noise.phone_formats(values.astype(object), self.rng, rate_format)
        return noise.arabic_indic_digits(values, self.rng, indic)

    def duplicate_some(self, frame: pd.DataFrame, truth: pd.DataFrame, rate: float, key: str, prefix: str,
                       rates: NoiseRates, latin: bool = False):
        """The same person registered twice in one programme, under a new record id."""
        pick = self.rng.random(len(frame)) < rate
        if not pick.any():
            return frame, truth
        dup = frame[pick].copy()
        who = truth[pick]
        fresh = self.person_columns(who, rates, latin)
        fresh.index = dup.index
        dup.update(fresh[[c for c in fresh.columns if c in dup.columns]])
        dup[key] = self.ids(prefix + "D", len(dup))
        return pd.concat([frame, dup], ignore_index=True), pd.concat([truth, who], ignore_index=True)

    def dates(self, values, fmt=None, rates: NoiseRates | None = None) -> pd.Series:
        values = pd.Series(values)
        return noise.format_dates(values, self.rng, fmt or (rates.dates if rates else ISO))

    def month_dates(self, periods: pd.Series, day: int) -> pd.Series:
        return pd.Series([p.start_time.date().replace(day=day) for p in periods], index=periods.index)

    def inject(self, source: str, entity: str, frame: pd.DataFrame, key: str, rate: float,
               defects: dict[str, callable]) -> pd.DataFrame:
        """Break a few rows on purpose (each recorded in the truth) so ingestion has work."""
        frame = frame.copy()
        n = len(frame)
        count = max(1, int(n * rate)) if n > 50 else 0
        rows = self.rng.choice(n, size=min(count * len(defects), n), replace=False) if count else []
        kinds = list(defects)
        recorded = []
        extra = []
        for i, row in enumerate(rows):
            kind = kinds[i % len(kinds)]
            if kind == "duplicate_key":
                copy = frame.iloc[[row]].copy()
                extra.append(copy)
                recorded.append((frame.at[row, key], kind))
                continue
            defects[kind](frame, row)
            recorded.append((frame.at[row, key], kind))
        if extra:
            frame = pd.concat([frame, *extra], ignore_index=True)
        self.out.defects.append(pd.DataFrame(recorded, columns=["record_key", "defect"]).assign(source=source, entity=entity))
        return frame
