"""Generic source writers, parameterised by a profile's `synthetic.yaml` (`writers`): a family
registry (a ration card or family book, whose family is not always the household paid), a cash
programme (households, members, monthly payments), social insurance (contributions and
pensions), a displacement registry and a household survey. Entity and column names are those of
the profile's source contracts; amounts are in the profile's currency, from the parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.synthetic import noise
from assets.synthetic.population import _unique_digits
from assets.synthetic.sources import ISO, MIXED, NoiseRates, SourceBuilder

SEX_AR = {"M": "ذكر", "F": "أنثى"}
NAME_PARTS = ("first_name", "father_name", "grandfather_name", "family_name")


def _set(column: str, value):
    def defect(frame: pd.DataFrame, row: int) -> None:
        frame.at[row, column] = value
    return defect


def _sex_text(b: SourceBuilder, sex: np.ndarray, share_arabic: float) -> np.ndarray:
    return np.where(b.rng.random(len(sex)) < share_arabic, pd.Series(sex).map(SEX_AR), sex)


def _ago(b: SourceBuilder, low: int, high: int, n: int):
    return (pd.Timestamp(b.as_of) - pd.to_timedelta(b.rng.integers(low, high, n), unit="D")).date


def family_registry(b: SourceBuilder, spec: dict) -> None:
    """Families as a ration card (or family book) holds them, and their members. A share of
    households (`joint_share`, young ones first) is still on the card of another household of
    their governorate (a married son on his father's card); displaced households keep the card of
    their governorate of origin. Newer records carry the national number, older ones only the
    civil ID (`national_card_share`)."""
    rng, hh, people = b.rng, b.hh.copy(), b.people
    source = spec["source"]
    heads = people.set_index("person_id").loc[hh.head_person_id]
    hh["head_age"] = heads["age"].to_numpy()
    hh["card_governorate"] = hh.get("origin_governorate_code", hh["governorate_code"])
    hh["joins"] = (rng.random(len(hh)) < float(spec.get("joint_share", 0.15))) & (hh["head_age"] < 40).to_numpy()
    hh = hh.sort_values(["card_governorate", "head_age"], ascending=[True, False], kind="stable")
    owner = pd.Series(np.where(hh["joins"], None, hh["household_id"]), index=hh.index, dtype=object)
    owner = owner.groupby(hh["card_governorate"]).ffill().fillna(hh["household_id"])
    hh["card_owner"] = owner
    owners = hh[hh.household_id == hh.card_owner].set_index("card_owner", drop=False)
    card_no = pd.Series(_unique_digits(rng, len(owners), int(spec.get("card_digits", 8))), index=owners.index)
    hh["ration_card_no"] = card_no.loc[hh["card_owner"]].to_numpy()
    b.hh = b.hh.merge(hh[["household_id", "ration_card_no"]], on="household_id", how="left")

    rates = NoiseRates(spelling=0.05, typo=0.012, missing_grandfather=0.08, id_missing=0.0, id_typo=0.004)
    card_of = hh.set_index("household_id")
    who = people.assign(ration_card_no=card_of.loc[people.household_id, "ration_card_no"].to_numpy(),
                        on_own_card=(card_of.loc[people.household_id, "card_owner"].to_numpy() == people.household_id.to_numpy()))
    cols = b.person_columns(who, rates)
    newer = rng.random(len(who)) < float(spec.get("national_card_share", 0.6))
    civil_id = _unique_digits(rng, len(who), int(spec.get("civil_id_digits", 8)))
    relation = np.where(who["on_own_card"], who["relation_to_head"],
                        np.where(who["relation_to_head"] == "head", "child", "other"))
    members = pd.DataFrame({
        "member_id": b.ids("PDM", len(who)), "ration_card_no": who["ration_card_no"].to_numpy(),
        "national_id": np.where(newer, cols["national_id"].to_numpy(), None),
        "civil_id": np.where(newer & (rng.random(len(who)) < 0.5), None, civil_id),
        **{c: cols[c].to_numpy() for c in (*NAME_PARTS, "birth_date")},
        "sex": _sex_text(b, cols["sex"], 0.5), "relation_to_head": relation,
    })
    members = b.inject(source, "members", members, "member_id", 0.001, {
        "missing_required": _set("first_name", None), "value_not_allowed": _set("relation_to_head", "cousin")})
    b.out.add(source, "members", members, "member_id", who.person_id.reset_index(drop=True),
              who.household_id.reset_index(drop=True))

    size = who.groupby("ration_card_no").size()
    card_heads = owners.reset_index(drop=True)
    head_nid = people.set_index("person_id").loc[card_heads.head_person_id, "national_id"].to_numpy()
    families = pd.DataFrame({
        "ration_card_no": card_no.loc[card_heads.card_owner].to_numpy(),
        "head_national_id": np.where(rng.random(len(card_heads)) < float(spec.get("national_card_share", 0.6)), head_nid, None),
        "governorate": b.governorate_text(card_heads["card_governorate"].reset_index(drop=True), 0.35).to_numpy(),
        "agent_code": np.char.add("AG", rng.integers(1000, 9999, len(card_heads)).astype(str)).astype(object),
        "family_size": size.loc[card_no.loc[card_heads.card_owner].to_numpy()].astype(str).to_numpy(),
        "issued_on": b.dates(_ago(b, 400, 9000, len(card_heads)), MIXED).to_numpy(),
        "last_updated_on": b.dates(_ago(b, 0, 1500, len(card_heads))).to_numpy(),
    })
    b.out.add(source, "families", families)


def cash_programme(b: SourceBuilder, spec: dict) -> pd.DataFrame:
    """A poverty-targeted cash programme: households (`take_up` of the poor, `leakage` of the
    rest), their members and monthly payments of `amount.base` plus `amount.per_member` for each
    further member up to `amount.cap`. Households of governorates listed in `programme_by_region`
    are paid that region's programme, and a share (`overlap_share`) of them the national
    programme as well: the double payment the registry must find."""
    rng, hh, source = b.rng, b.hh, spec["source"]
    on = np.where(hh.is_poor, rng.random(len(hh)) < float(spec.get("take_up", 0.6)),
                  rng.random(len(hh)) < float(spec.get("leakage", 0.03)))
    cash = hh[on].copy()
    id_column = spec.get("truth_column", "cash_household_id")
    cash[id_column] = b.ids(spec.get("id_prefix", "CSH"), len(cash))
    cash["enrolled_on"] = (b.months[0].start_time - pd.to_timedelta(rng.integers(-600, 1500, len(cash)), unit="D")).date
    exit_on = _ago(b, 30, 600, len(cash))
    exited = (rng.random(len(cash)) < float(spec.get("exit_share", 0.06))) & (exit_on > cash["enrolled_on"])
    cash["exited_on"] = np.where(exited, exit_on, None)
    cash["status"] = np.where(exited, "exited", np.where(rng.random(len(cash)) < 0.02, "suspended", "active"))
    cash["exit_reason"] = np.where(exited, np.array(["employment", "income_increase", "moved", "other"])[rng.integers(0, 4, len(cash))], None)
    heads = b.people.set_index("person_id").loc[cash.head_person_id]
    households = pd.DataFrame({
        "household_id": cash[id_column].to_numpy(),
        "head_national_id": noise.digit_typo(pd.Series(heads["national_id"].to_numpy(), dtype=object), rng, 0.005).to_numpy(),
        "ration_card_no": cash["ration_card_no"].to_numpy() if "ration_card_no" in cash else None,
        "governorate": b.governorate_text(cash["governorate_code"]).to_numpy(),
        "phone": b.phones(cash["phone"]).to_numpy(), "household_size": cash["size"].astype(str).to_numpy(),
        "pmt_score": np.round(cash["consumption_pc_month"].to_numpy() * rng.normal(1, 0.15, len(cash)), 1),
        "enrolled_on": b.dates(cash["enrolled_on"].to_numpy(), MIXED).to_numpy(),
        "status": cash["status"].to_numpy(), "exit_reason": cash["exit_reason"].to_numpy(),
        "exited_on": b.dates(cash["exited_on"].to_numpy()).to_numpy(),
        "last_updated_on": b.dates(_ago(b, 0, 1100, len(cash))).to_numpy(),
    })
    households = b.inject(source, "households", households, "household_id", 0.002, {
        "missing_required": _set("governorate", None), "value_not_allowed": _set("status", "unknown")})
    b.out.add(source, "households", households)

    rates = NoiseRates(spelling=0.06, typo=0.015, missing_grandfather=0.05, id_missing=0.02, id_typo=0.008)
    who = b.people[b.people.household_id.isin(cash.household_id)]
    ids = cash.set_index("household_id")[id_column]
    cols = b.person_columns(who, rates)
    members = pd.DataFrame({
        "member_id": b.ids(spec.get("id_prefix", "CSH") + "M", len(who)), "household_id": ids.loc[who.household_id].to_numpy(),
        **{c: cols[c].to_numpy() for c in ("national_id", *NAME_PARTS, "birth_date")},
        "sex": _sex_text(b, cols["sex"], 0.3), "relation_to_head": who["relation_to_head"].to_numpy(),
        "has_disability": np.where(who["has_disability"], "1", "0"),
    })
    members, truth = b.duplicate_some(members, who.reset_index(drop=True), 0.01, "member_id", spec.get("id_prefix", "CSH") + "M", rates)
    b.out.add(source, "members", members, "member_id", truth.person_id, truth.household_id)

    amount = spec["amount"]
    regional = spec.get("programme_by_region") or {}
    region_of = {g["code"]: g.get("region") for g in b.profile.governorates}
    cash["programme_code"] = [regional.get(region_of.get(c), spec["programme"]) for c in cash["governorate_code"]]
    rows = []
    for month in b.months:
        start = month.start_time.date()
        active = (cash["enrolled_on"] <= start) & (cash["exited_on"].isna() | (cash["exited_on"].astype(object).fillna(start) > start))
        rows.append(cash[active].assign(period=month))
    pay = pd.concat(rows, ignore_index=True)
    regional_paid = pay[pay.programme_code != spec["programme"]]
    twice = regional_paid[rng.random(len(regional_paid)) < float(spec.get("overlap_share", 0.0))]
    pay = pd.concat([pay, twice.assign(programme_code=spec["programme"])], ignore_index=True)
    pay["amount"] = np.minimum(float(amount["base"]) + float(amount["per_member"]) * (pay["size"] - 1), float(amount["cap"]))
    last = pay["period"] == b.months[-1]
    status = np.where(rng.random(len(pay)) < 0.975, "paid", "failed")
    pay["status"] = np.where(last & (rng.random(len(pay)) < 0.3), "pending", status)
    due = pd.to_datetime([p.start_time.replace(day=10) for p in pay["period"]])
    delay = pd.to_timedelta(np.minimum(rng.gamma(1.5, 3.0, len(pay)).astype(int), 40), unit="D")
    payments = pd.DataFrame({
        "payment_id": b.ids(spec.get("id_prefix", "CSH") + "P", len(pay)), "household_id": pay[id_column].to_numpy(),
        "programme_code": pay["programme_code"].to_numpy(), "period_month": pay["period"].astype(str).to_numpy(),
        "amount": pay["amount"].map(lambda v: f"{v:.0f}").to_numpy(),
        "due_on": b.dates(due.date).to_numpy(),
        "paid_on": b.dates(np.where(pay.status == "paid", (due + delay).date, None)).to_numpy(),
        "status": pay["status"].to_numpy(),
        "channel": np.array(["e_card", "bank", "cash"], dtype=object)[rng.choice(3, len(pay), p=[0.7, 0.2, 0.1])],
    })
    payments = b.inject(source, "payments", payments, "payment_id", 0.001, {
        "negative_amount": _set("amount", "-1000"), "impossible_date": _set("due_on", "2023-02-30"),
        "duplicate_key": None, "missing_required": _set("period_month", None)})
    b.out.add(source, "payments", payments)
    return cash


def social_insurance(b: SourceBuilder, spec: dict) -> None:
    """Formal workers' monthly contributions and pensioners, wages and pensions log-normal around
    `wage_median` and `pension_median` (the profile's currency)."""
    rng, people, source = b.rng, b.people, spec["source"]
    rates = NoiseRates(spelling=0.05, typo=0.01, missing_grandfather=0.3, id_missing=0.02, id_typo=0.004, indic_digits=0.0, dates=ISO)
    workers = people[people.is_formal_worker]
    cols = b.person_columns(workers, rates)
    insured_no = b.ids(spec.get("id_prefix", "INS"), len(workers))
    full = b.full_name(cols)
    start = rng.integers(0, len(b.months), len(workers))
    grid = pd.concat([pd.DataFrame({"i": np.flatnonzero(start <= i), "contribution_month": str(m)})
                      for i, m in enumerate(b.months)], ignore_index=True)
    idx = grid["i"].to_numpy()
    frame = pd.DataFrame({
        "insured_no": insured_no[idx], "national_id": cols["national_id"].to_numpy()[idx], "full_name": full.to_numpy()[idx],
        "birth_date": cols["birth_date"].to_numpy()[idx], "sex": cols["sex"][idx],
        "contribution_month": grid["contribution_month"].to_numpy(),
        "wage": np.round(rng.lognormal(np.log(float(spec["wage_median"])), 0.4, len(workers)), 0)[idx].astype(str),
        "sector": np.array(["private", "mixed", "self_employed"], dtype=object)[rng.choice(3, len(workers), p=[0.7, 0.2, 0.1])][idx],
        "is_active": np.where(rng.random(len(grid)) < 0.96, "1", "0"),
    })
    b.out.add(source, "contributions", frame, "insured_no", pd.Series(workers.person_id.to_numpy()[idx]),
              pd.Series(workers.household_id.to_numpy()[idx]))
    pensioners = people[people.is_pensioner]
    pcols = b.person_columns(pensioners, rates)
    pensions = pd.DataFrame({
        "pension_no": b.ids(spec.get("id_prefix", "INS") + "P", len(pensioners)), "national_id": pcols["national_id"].to_numpy(),
        "full_name": b.full_name(pcols).to_numpy(), "birth_date": pcols["birth_date"].to_numpy(), "sex": pcols["sex"],
        "pension_type": np.array(["old_age", "early", "disability", "survivors"], dtype=object)[
            rng.choice(4, len(pensioners), p=[0.7, 0.1, 0.05, 0.15])],
        "monthly_amount": np.round(rng.lognormal(np.log(float(spec["pension_median"])), 0.45, len(pensioners)), 0).astype(str),
        "started_on": b.dates(_ago(b, 30, 5000, len(pensioners))).to_numpy(),
    })
    b.out.add(source, "pensions", pensions, "pension_no", pensioners.person_id, pensioners.household_id)


def displacement_registry(b: SourceBuilder, spec: dict) -> None:
    """Displaced persons by displaced household: governorate of origin and of residence as the
    clerk wrote them (Arabic or Kurdish spellings, `alias_share`), displacement date and status."""
    rng, people, source = b.rng, b.people, spec["source"]
    displaced = b.hh[b.hh.get("is_displaced", pd.Series(False, index=b.hh.index)).astype(bool)]
    who = people[people.household_id.isin(displaced.household_id)]
    rates = NoiseRates(spelling=0.1, typo=0.03, missing_grandfather=0.25, id_missing=0.15, id_typo=0.01)
    cols = b.person_columns(who, rates)
    hh = displaced.set_index("household_id")
    family_ids = pd.Series(b.ids(spec.get("id_prefix", "IDP") + "F", len(hh)), index=hh.index)
    alias = float(spec.get("alias_share", 0.4))
    frame = pd.DataFrame({
        "individual_id": b.ids(spec.get("id_prefix", "IDP"), len(who)), "idp_household_id": family_ids.loc[who.household_id].to_numpy(),
        "national_id": cols["national_id"].to_numpy(), "full_name": b.full_name(cols).to_numpy(),
        "birth_date": cols["birth_date"].to_numpy(), "sex": _sex_text(b, cols["sex"], 0.5),
        "relationship_to_head": who["relation_to_head"].to_numpy(),
        "phone": b.phones(hh.loc[who.household_id, "phone"].reset_index(drop=True)).to_numpy(),
        "governorate_of_origin": b.governorate_text(hh.loc[who.household_id, "origin_governorate_code"].reset_index(drop=True), alias).to_numpy(),
        "governorate": b.governorate_text(who["governorate_code"].reset_index(drop=True), alias).to_numpy(),
        "displaced_on": b.dates(_ago(b, 300, 4000, len(who)), MIXED).to_numpy(),
        "status": np.array(["in_camp", "out_of_camp", "returned"], dtype=object)[rng.choice(3, len(who), p=[0.25, 0.65, 0.1])],
    })
    frame = b.inject(source, "individuals", frame, "individual_id", 0.002, {
        "missing_required": _set("governorate", None), "value_not_allowed": _set("status", "unknown")})
    b.out.add(source, "individuals", frame, "individual_id", who.person_id.reset_index(drop=True),
              who.household_id.reset_index(drop=True))


def household_survey(b: SourceBuilder, spec: dict) -> None:
    """A household survey sample (`sample_share`) with consumption per person and month."""
    rng, hh, source = b.rng, b.hh, spec["source"]
    sample = hh[rng.random(len(hh)) < float(spec.get("sample_share", 0.05))]
    heads = b.people.set_index("person_id").loc[sample.head_person_id]
    frame = pd.DataFrame({
        "survey_household_id": b.ids(spec.get("id_prefix", "SRV"), len(sample)), "head_national_id": heads["national_id"].to_numpy(),
        "governorate": [b.aliases[c][0] for c in sample.governorate_code], "household_size": sample["size"].astype(str).to_numpy(),
        "consumption_pc_month": np.round(sample.consumption_pc_month.to_numpy() * rng.normal(1, 0.08, len(sample)), 0).astype(str),
        "surveyed_on": b.dates(_ago(b, 30, 300, len(sample))).to_numpy(),
        "sample_weight": np.round(rng.uniform(15, 25, len(sample)), 2).astype(str),
    })
    b.out.add(source, spec.get("entity", "households"), frame)
