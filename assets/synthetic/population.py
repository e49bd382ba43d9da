"""The true population: households first, then the people in them, with lineage-consistent names.

Everything is drawn with numpy over whole columns. Within a household: member 0 is the head,
member 1 the spouse (when there is one), the others are the head's children, so children
share father, grandfather and family names, and a wife keeps her own father's and family names.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from assets.synthetic.names import NameSampler


def _weights(codes: list[str], base: np.ndarray, boost: dict[str, float]) -> np.ndarray:
    w = base * np.array([boost.get(c, 1.0) for c in codes])
    return w / w.sum()


def _birth_dates(rng: np.random.Generator, ages: np.ndarray, as_of: dt.date) -> np.ndarray:
    """Birth dates for given completed ages at `as_of` (day drawn uniformly within the year)."""
    days = (ages * 365.25 + rng.uniform(0, 365, size=len(ages))).astype("int64")
    return (np.datetime64(as_of) - days.astype("timedelta64[D]")).astype("datetime64[D]")


def _unique_digits(rng: np.random.Generator, n: int, digits: int, first: str = "") -> np.ndarray:
    """n distinct random numbers of `digits` digits (as strings), optionally with a fixed first digit."""
    width = digits - len(first)
    seen = np.empty(0, dtype=np.int64)
    while len(seen) < n:
        draw = rng.integers(10 ** (width - 1), 10**width, size=int((n - len(seen)) * 1.1) + 10)
        seen = np.unique(np.concatenate([seen, draw]))
    seen = rng.permutation(seen)[:n]
    return np.char.add(first, seen.astype(str)).astype(object)


def build_population(profile, rules: dict, persons: int, rng: np.random.Generator, as_of: dt.date):
    """Return (households, persons) truth frames for `persons` people."""
    govs = profile.governorates
    codes = [g["code"] for g in govs]
    pop = np.array([g["population_k"] for g in govs], dtype=float)
    names = NameSampler(rules, rng)

    # Households: size 1 + Poisson(mean - 1), capped, trimmed to exactly `persons` people.
    mean = float(profile.mean_household_size)
    sizes = np.minimum(1 + rng.poisson(mean - 1, size=int(persons / mean * 1.2) + 10), 15)
    cum = np.cumsum(sizes)
    n_hh = int(np.searchsorted(cum, persons) + 1)
    sizes = sizes[:n_hh]
    sizes[-1] -= cum[n_hh - 1] - persons
    if sizes[-1] <= 0:
        sizes = sizes[:-1]
        n_hh -= 1
    hh_ids = np.char.add("H", np.char.zfill(np.arange(1, n_hh + 1).astype(str), 8)).astype(object)

    refugee = rng.random(n_hh) < float(profile.refugee_share)
    nat_codes = list(rules["refugee_nationalities"])
    nat_p = np.array(list(rules["refugee_nationalities"].values()), dtype=float)
    nationality = np.where(refugee, np.array(nat_codes, dtype=object)[rng.choice(len(nat_codes), n_hh, p=nat_p / nat_p.sum())],
                           profile.nationality_code)
    gov = np.array(codes, dtype=object)[rng.choice(len(codes), n_hh, p=pop / pop.sum())]
    ref_gov = np.array(codes, dtype=object)[
        rng.choice(len(codes), n_hh, p=_weights(codes, pop, rules.get("refugee_governorate_weights", {})))]
    gov = np.where(refugee, ref_gov, gov)
    # Consumption per capita per month: log-normal, about 15 % below the poverty line for
    # citizens, poorer for refugees, and poorer in larger households.
    line = float(profile.poverty_line_pc_month)
    median = np.where(refugee, line * 1.15, line * 1.75) * (1.12 - 0.025 * sizes)
    consumption = np.round(median * np.exp(rng.normal(0, 0.5, n_hh)), 2)
    head_female = rng.random(n_hh) < 0.12
    has_spouse = (sizes >= 2) & ~head_female & (rng.random(n_hh) < 0.93)
    prefixes, digits = list(rules["phone"]["prefixes"]), int(rules["phone"]["digits"])
    phone = np.char.add(
        np.array(prefixes, dtype=object)[rng.integers(0, len(prefixes), n_hh)].astype(str),
        np.char.zfill(rng.integers(0, 10**digits, n_hh).astype(str), digits)).astype(object)
    households = pd.DataFrame({
        "household_id": hh_ids, "governorate_code": gov, "size": sizes, "is_refugee": refugee,
        "nationality": nationality, "consumption_pc_month": consumption, "is_poor": consumption < line,
        "phone": phone, "family_book_no": np.where(refugee, None, _unique_digits(rng, n_hh, 8)),
        "unhcr_case": np.where(refugee, [f"{a:03d}-{b:02d}C{c:05d}" for a, b, c in zip(
            rng.integers(100, 1000, n_hh), rng.integers(10, 100, n_hh), rng.integers(0, 100000, n_hh))], None),
    })
    households["quintile"] = pd.qcut(households["consumption_pc_month"].rank(method="first"), 5, labels=False) + 1

    # Members: position within the household decides the role.
    hh_index = np.repeat(np.arange(n_hh), sizes)
    position = np.arange(len(hh_index)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    spouse_here = has_spouse[hh_index]
    role = np.where(position == 0, "head", np.where((position == 1) & spouse_here, "spouse", "child"))
    n = len(hh_index)
    h_female = head_female[hh_index]
    sex = np.where(role == "head", np.where(h_female, "F", "M"),
                   np.where(role == "spouse", "F", np.where(rng.random(n) < 0.5, "M", "F")))

    # Ages: head 22–80, spouse a few years younger, children born when the mother was 18–42.
    head_age = np.clip(rng.normal(44, 12, n_hh), 22, 85).astype(int)
    spouse_age = np.clip(head_age - rng.integers(0, 10, n_hh), 18, 85)
    mother_age = np.where(has_spouse, spouse_age, head_age)
    max_child = np.maximum(mother_age - 18, 0)
    child_age = np.minimum((rng.random(n) * (np.minimum(max_child, 24)[hh_index] + 1)).astype(int), max_child[hh_index])
    age = np.where(role == "head", head_age[hh_index], np.where(role == "spouse", spouse_age[hh_index], child_age))
    birth = _birth_dates(rng, age, as_of)
    # Twins: some children share the previous sibling's birth date.
    twin = (role == "child") & (np.roll(role, 1) == "child") & (rng.random(n) < 0.03)
    twin[0] = False
    birth = np.where(twin, np.roll(birth, 1), birth)
    # 1 January placeholders: registration without a known birthday (common for refugees).
    placeholder = rng.random(n) < np.where(refugee[hh_index], 0.35, 0.02)
    years = birth.astype("datetime64[Y]")
    birth = np.where(placeholder, years.astype("datetime64[D]"), birth)
    age = ((np.datetime64(as_of) - birth).astype(int) / 365.25).astype(int)

    # Names. Heads and spouses get their own lineage; children take the head's (or, for a
    # widow's children, a deceased father's) names.
    first = names.first_names(sex)
    own_father = names.draw("male_first_names", n)
    own_grandfather = names.draw("male_first_names", n)
    own_family = names.draw("family_names", n)
    # The children's father: the head when male, else a deceased husband.
    dad_first = np.where(head_female, names.draw("male_first_names", n_hh), first[np.cumsum(sizes) - sizes])
    dad_father = np.where(head_female, names.draw("male_first_names", n_hh), own_father[np.cumsum(sizes) - sizes])
    dad_family = np.where(head_female, names.draw("family_names", n_hh), own_family[np.cumsum(sizes) - sizes])
    child = role == "child"
    father_name = np.where(child, dad_first[hh_index], own_father)
    grandfather_name = np.where(child, dad_father[hh_index], own_grandfather)
    family_name = np.where(child, dad_family[hh_index], own_family)
    # A female head keeps her own family; her children carry their father's.

    person_ids = np.char.add("P", np.char.zfill(np.arange(1, n + 1).astype(str), 9)).astype(object)
    is_ref = refugee[hh_index]
    national_id = np.full(n, None, dtype=object)
    nid = rules["national_id"]
    national_id[~is_ref] = _unique_digits(rng, int((~is_ref).sum()), int(nid["digits"]), first=str(nid.get("first", "")))
    moi = np.full(n, None, dtype=object)
    moi[is_ref] = [f"{a}{b:07d}" for a, b in zip(
        np.array(["SYR", "MOI", "REF"])[rng.integers(0, 3, int(is_ref.sum()))], rng.integers(0, 10**7, int(is_ref.sum())))]

    disability = rng.random(n) < np.clip(0.02 + age / 2500, 0, 0.2)
    severity = np.where(disability, np.array(["mild", "moderate", "severe"])[rng.choice(3, n, p=[0.45, 0.35, 0.2])], "none")
    in_school_age = (age >= 6) & (age <= 17)
    in_school = in_school_age & (rng.random(n) < np.where(is_ref, 0.78, 0.94))
    working_age = (age >= 18) & (age <= 64)
    formal = working_age & (rng.random(n) < np.where(sex == "M", 0.42, 0.12) * np.where(is_ref, 0.15, 1.0))
    pensioner = (age >= int(profile.pensionable_age)) & ~is_ref & (rng.random(n) < np.where(sex == "M", 0.45, 0.15))

    people = pd.DataFrame({
        "person_id": person_ids, "household_id": hh_ids[hh_index], "relation_to_head": role,
        "first_name": first, "father_name": father_name, "grandfather_name": grandfather_name,
        "family_name": family_name, "sex": sex, "birth_date": pd.to_datetime(birth).date,
        "birth_date_is_placeholder": placeholder, "age": age, "national_id": national_id,
        "moi_card_no": moi, "is_refugee": is_ref, "nationality": nationality[hh_index],
        "governorate_code": gov[hh_index], "has_disability": disability, "disability_severity": severity,
        "is_twin": twin | np.roll(twin, -1) & child, "in_school": in_school, "is_formal_worker": formal,
        "is_pensioner": pensioner,
    })
    households["head_person_id"] = person_ids[np.cumsum(sizes) - sizes]
    households["head_sex"] = sex[np.cumsum(sizes) - sizes]
    displace(households, people, rules, rng)
    drop_family_names(households, people, rules, rng)
    return households, people


def displace(households: pd.DataFrame, people: pd.DataFrame, rules: dict, rng: np.random.Generator) -> None:
    """Internally displaced households (the profile's `displacement` rules): they live in a host
    governorate other than their governorate of origin. Households keep `origin_governorate_code`
    (their own governorate when not displaced); residence moves, in place."""
    spec = rules.get("displacement")
    households["origin_governorate_code"] = households["governorate_code"]
    households["is_displaced"] = False
    if not spec:
        return
    origins, hosts = dict(spec["origin_weights"]), dict(spec["host_weights"])
    n_hh = len(households)
    displaced = rng.random(n_hh) < float(spec["share"])
    o_codes, o_w = list(origins), np.array(list(origins.values()), dtype=float)
    origin = np.array(o_codes, dtype=object)[rng.choice(len(o_codes), n_hh, p=o_w / o_w.sum())]
    host = np.empty(n_hh, dtype=object)
    for code in o_codes:  # a host governorate is never the origin
        here = origin == code
        h_codes = [c for c in hosts if c != code]
        h_w = np.array([hosts[c] for c in h_codes], dtype=float)
        host[here] = np.array(h_codes, dtype=object)[rng.choice(len(h_codes), int(here.sum()), p=h_w / h_w.sum())]
    households["origin_governorate_code"] = np.where(displaced, origin, households["governorate_code"])
    households["governorate_code"] = np.where(displaced, host, households["governorate_code"])
    households["is_displaced"] = displaced
    where = households.set_index("household_id")
    people["governorate_code"] = where.loc[people.household_id, "governorate_code"].to_numpy()
    people["is_displaced"] = where.loc[people.household_id, "is_displaced"].to_numpy()


def drop_family_names(households: pd.DataFrame, people: pd.DataFrame, rules: dict, rng: np.random.Generator) -> None:
    """Families that use no family (tribal) name, for the profile's `family_name_missing` share of
    households: the head, the spouse and the children go by the three-part lineage only."""
    share = float(rules.get("family_name_missing", 0) or 0)
    if share <= 0:
        return
    without = set(households.household_id[rng.random(len(households)) < share])
    people.loc[people.household_id.isin(without), "family_name"] = None
