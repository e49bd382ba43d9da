"""One function per agency: who appears in its export and how it records them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.synthetic import noise
from assets.synthetic.sources import ISO, MIXED, SLASHED, NoiseRates, SourceBuilder

SEX_AR = {"M": "ذكر", "F": "أنثى"}


def _set(column: str, value):
    def defect(frame: pd.DataFrame, row: int) -> None:
        frame.at[row, column] = value
    return defect


def civil_registry(b: SourceBuilder) -> None:
    rates = NoiseRates(spelling=0.01, typo=0.003, missing_grandfather=0.0, id_missing=0.0, id_typo=0.0,
                       indic_digits=0.0, date_swap=0.0, sex_error=0.0, dates=ISO)
    who = b.people[~b.people.is_refugee]
    cols = b.person_columns(who, rates)
    hh = b.hh.set_index("household_id")
    mothers = b.people[b.people.relation_to_head == "spouse"].set_index("household_id")["first_name"]
    frame = pd.DataFrame({
        "national_id": who["national_id"].to_numpy(), **{c: cols[c].to_numpy() for c in
        ("first_name", "father_name", "grandfather_name", "family_name", "birth_date")},
        "sex": cols["sex"], "family_book_no": hh.loc[who.household_id, "family_book_no"].to_numpy(),
        "governorate": b.governorate_text(who["governorate_code"], 0.1).to_numpy(),
        "mother_name": np.where(who.relation_to_head == "child", mothers.reindex(who.household_id).to_numpy(), None),
    })
    b.out.add("civil_registry", "persons", frame, "national_id", who.person_id, who.household_id)


def naf_takaful(b: SourceBuilder) -> pd.DataFrame:
    """Takaful households (mostly poor citizens, with targeting errors), members, payments."""
    rng, hh = b.rng, b.hh
    citizen = ~hh.is_refugee
    on = citizen & np.where(hh.is_poor, rng.random(len(hh)) < 0.62, rng.random(len(hh)) < 0.035)
    naf = hh[on].copy()
    naf["naf_household_id"] = b.ids("NAF", len(naf))
    first_month = b.months[0].start_time
    enrolled = first_month - pd.to_timedelta(rng.integers(-600, 1500, len(naf)), unit="D")
    naf["enrolled_on"] = enrolled.date
    exited = rng.random(len(naf)) < 0.06
    exit_on = (pd.Timestamp(b.as_of) - pd.to_timedelta(rng.integers(30, 600, len(naf)), unit="D")).date
    naf["exited_on"] = np.where(exited & (exit_on > naf["enrolled_on"]), exit_on, None)
    naf["status"] = np.where(naf["exited_on"].notna(), "exited", np.where(rng.random(len(naf)) < 0.02, "suspended", "active"))
    naf["exit_reason"] = np.where(naf.status == "exited", np.array(["employment", "income_increase", "moved", "other"])[rng.integers(0, 4, len(naf))], None)
    rates = NoiseRates(spelling=0.06, typo=0.015, missing_grandfather=0.05, id_missing=0.01, id_typo=0.008)
    heads = b.people.set_index("person_id").loc[naf.head_person_id]
    head_nid = noise.digit_typo(pd.Series(heads["national_id"].to_numpy(), dtype=object), rng, 0.005)
    households = pd.DataFrame({
        "household_id": naf["naf_household_id"].to_numpy(), "head_national_id": head_nid.to_numpy(),
        "governorate": b.governorate_text(naf["governorate_code"]).to_numpy(),
        "phone": b.phones(naf["phone"]).to_numpy(), "household_size": naf["size"].to_numpy(),
        "pmt_score": np.round(naf["consumption_pc_month"].to_numpy() * rng.normal(1, 0.15, len(naf)), 1),
        "enrolled_on": b.dates(naf["enrolled_on"].to_numpy(), MIXED).to_numpy(),
        "status": naf["status"].to_numpy(), "exit_reason": naf["exit_reason"].to_numpy(),
        "exited_on": b.dates(naf["exited_on"].to_numpy()).to_numpy(),
        "last_updated_on": b.dates((pd.Timestamp(b.as_of) - pd.to_timedelta(rng.integers(0, 1100, len(naf)), unit="D")).date).to_numpy(),
    })
    households = b.inject("naf_takaful", "households", households, "household_id", 0.002, {
        "missing_required": _set("governorate", None), "value_not_allowed": _set("status", "unknown")})
    b.out.add("naf_takaful", "households", households)

    who = b.people[b.people.household_id.isin(naf.household_id)]
    naf_id = naf.set_index("household_id")["naf_household_id"]
    cols = b.person_columns(who, rates)
    members = pd.DataFrame({
        "member_id": b.ids("M", len(who)), "household_id": naf_id.loc[who.household_id].to_numpy(),
        **{c: cols[c].to_numpy() for c in ("national_id", "first_name", "father_name", "grandfather_name",
                                             "family_name", "birth_date")},
        "sex": np.where(rng.random(len(who)) < 0.3, pd.Series(cols["sex"]).map(SEX_AR), cols["sex"]),
        "relation_to_head": who["relation_to_head"].to_numpy(),
        "has_disability": np.where(who["has_disability"], "1", "0"),
    })
    members, truth = b.duplicate_some(members, who.reset_index(drop=True), 0.01, "member_id", "M", rates)
    b.out.add("naf_takaful", "members", members, "member_id", truth.person_id, truth.household_id)

    # Monthly payments while enrolled: 45 plus 25 per extra member, capped at 200 (the profile's currency).
    rows = []
    for month in b.months:
        start = month.start_time.date()
        active = (naf["enrolled_on"] <= start) & (naf["exited_on"].isna() | (naf["exited_on"].astype(object).fillna(start) > start))
        sub = naf[active]
        rows.append(pd.DataFrame({"naf_household_id": sub.naf_household_id.to_numpy(), "household_id": sub.household_id.to_numpy(),
                                  "period": month, "size": sub["size"].to_numpy()}))
    pay = pd.concat(rows, ignore_index=True)
    pay["amount"] = np.minimum(45 + 25 * (pay["size"] - 1), 200).astype(float)
    last = pay["period"] == b.months[-1]
    status = np.where(rng.random(len(pay)) < 0.975, "paid", "failed")
    pay["status"] = np.where(last & (rng.random(len(pay)) < 0.3), "pending", status)
    due = pd.to_datetime([p.start_time.replace(day=5) for p in pay["period"]])
    delay = pd.to_timedelta(np.minimum(rng.gamma(1.5, 2.5, len(pay)).astype(int), 40), unit="D")
    pay["due_on"] = due.date
    pay["paid_on"] = np.where(pay.status == "paid", (due + delay).date, None)
    payments = pd.DataFrame({
        "payment_id": b.ids("PAY", len(pay)), "household_id": pay.naf_household_id.to_numpy(),
        "programme_code": "TAKAFUL", "period_month": pay["period"].astype(str).to_numpy(),
        "amount": pay["amount"].map(lambda v: f"{v:.2f}").to_numpy(),
        "due_on": b.dates(pay["due_on"].to_numpy()).to_numpy(), "paid_on": b.dates(pay["paid_on"].to_numpy()).to_numpy(),
        "status": pay["status"].to_numpy(),
        "channel": np.array(["e_wallet", "bank", "cash"], dtype=object)[rng.choice(3, len(pay), p=[0.6, 0.3, 0.1])],
    })
    payments = b.inject("naf_takaful", "payments", payments, "payment_id", 0.001, {
        "negative_amount": _set("amount", "-45.00"), "impossible_date": _set("due_on", "2023-02-30"),
        "duplicate_key": None, "missing_required": _set("period_month", None)})
    b.out.add("naf_takaful", "payments", payments)
    return naf


def mosd_services(b: SourceBuilder) -> None:
    rng, people = b.rng, b.people
    pick = (people.has_disability & (rng.random(len(people)) < 0.6)) | (rng.random(len(people)) < 0.01)
    who = people[pick]
    rates = NoiseRates(spelling=0.1, typo=0.025, missing_grandfather=0.2, id_missing=0.08, id_typo=0.01, dates=SLASHED)
    cols = b.person_columns(who, rates)
    service = np.where(who.has_disability, "disability", np.array(["case_management", "referral", "community_centre"], dtype=object)[rng.integers(0, 3, len(who))])
    opened = pd.Timestamp(b.months[0].start_time) + pd.to_timedelta(rng.integers(0, 700, len(who)), unit="D")
    closed_days = rng.gamma(2, 15, len(who)).astype(int)
    is_closed = rng.random(len(who)) < 0.75
    closed = np.where(is_closed, (opened + pd.to_timedelta(closed_days, unit="D")).date, None)
    outcome = np.where(is_closed, np.where(rng.random(len(who)) < 0.85, "delivered", "not_delivered"), "open")
    hh = b.hh.set_index("household_id")
    frame = pd.DataFrame({
        "case_id": b.ids("CASE", len(who)), **{c: cols[c].to_numpy() for c in
        ("national_id", "first_name", "father_name", "grandfather_name", "family_name", "birth_date")},
        "sex": cols["sex"], "phone": b.phones(hh.loc[who.household_id, "phone"].reset_index(drop=True)).to_numpy(),
        "governorate": b.governorate_text(who["governorate_code"]).to_numpy(), "service_type": service,
        "programme_code": np.where(service == "disability", "MOSD_DISABILITY", "MOSD_CASE"),
        "disability_severity": who["disability_severity"].to_numpy(),
        "opened_on": b.dates(opened.date, SLASHED).to_numpy(), "closed_on": b.dates(closed, SLASHED).to_numpy(),
        "outcome": outcome,
    })
    frame, truth = b.duplicate_some(frame, who.reset_index(drop=True), 0.01, "case_id", "CASE", rates)
    b.out.add("mosd_services", "cases", frame, "case_id", truth.person_id, truth.household_id)


def ssc_insured(b: SourceBuilder) -> None:
    rng, people = b.rng, b.people
    rates = NoiseRates(spelling=0.05, typo=0.01, missing_grandfather=0.3, id_missing=0.0, id_typo=0.004, indic_digits=0.0, dates=ISO)
    workers = people[people.is_formal_worker]
    cols = b.person_columns(workers, rates)
    insured_no = b.ids("SSC", len(workers))
    full = b.full_name(cols)
    start = rng.integers(0, 24, len(workers))
    rows = []
    for i, month in enumerate(b.months):
        on = start <= i
        rows.append(pd.DataFrame({"i": np.flatnonzero(on), "contribution_month": str(month)}))
    grid = pd.concat(rows, ignore_index=True)
    idx = grid["i"].to_numpy()
    frame = pd.DataFrame({
        "insured_no": insured_no[idx], "national_id": cols["national_id"].to_numpy()[idx], "full_name": full.to_numpy()[idx],
        "birth_date": cols["birth_date"].to_numpy()[idx], "sex": cols["sex"][idx],
        "contribution_month": grid["contribution_month"].to_numpy(),
        "wage": np.round(rng.lognormal(np.log(450), 0.4, len(workers)), 2)[idx].astype(str),
        "sector": np.array(["private", "public", "self_employed"], dtype=object)[rng.choice(3, len(workers), p=[0.6, 0.3, 0.1])][idx],
        "is_active": np.where(rng.random(len(grid)) < 0.96, "1", "0"),
    })
    b.out.add("ssc_insured", "contributions", frame, "insured_no", pd.Series(workers.person_id.to_numpy()[idx]),
              pd.Series(workers.household_id.to_numpy()[idx]))
    pensioners = people[people.is_pensioner]
    pcols = b.person_columns(pensioners, rates)
    pensions = pd.DataFrame({
        "pension_no": b.ids("PEN", len(pensioners)), "national_id": pcols["national_id"].to_numpy(),
        "full_name": b.full_name(pcols).to_numpy(), "birth_date": pcols["birth_date"].to_numpy(), "sex": pcols["sex"],
        "pension_type": np.array(["old_age", "early", "disability", "survivors"], dtype=object)[rng.choice(4, len(pensioners), p=[0.7, 0.15, 0.05, 0.1])],
        "monthly_amount": np.round(rng.lognormal(np.log(380), 0.45, len(pensioners)), 2).astype(str),
        "started_on": b.dates((pd.Timestamp(b.as_of) - pd.to_timedelta(rng.integers(30, 5000, len(pensioners)), unit="D")).date).to_numpy(),
    })
    b.out.add("ssc_insured", "pensions", pensions, "pension_no", pensioners.person_id, pensioners.household_id)


def labour_programmes(b: SourceBuilder) -> None:
    rng, people = b.rng, b.people
    poor = people.household_id.isin(b.hh.household_id[b.hh.is_poor])
    age_ok = (people.age >= 18) & (people.age <= 45) & ~people.is_refugee
    pick = age_ok & (rng.random(len(people)) < np.where(poor, 0.07, 0.015))
    who = people[pick]
    rates = NoiseRates(spelling=0.07, typo=0.02, missing_grandfather=0.25, id_missing=0.02, id_typo=0.01)
    cols = b.person_columns(who, rates)
    started = pd.Timestamp(b.months[0].start_time) + pd.to_timedelta(rng.integers(0, 700, len(who)), unit="D")
    outcome = np.array(["ongoing", "completed", "placed", "dropped"], dtype=object)[rng.choice(4, len(who), p=[0.2, 0.35, 0.3, 0.15])]
    ended = np.where(outcome != "ongoing", (started + pd.to_timedelta(rng.integers(60, 200, len(who)), unit="D")).date, None)
    hh = b.hh.set_index("household_id")
    frame = pd.DataFrame({
        "participant_id": b.ids("NEP", len(who)), **{c: cols[c].to_numpy() for c in
        ("national_id", "first_name", "father_name", "grandfather_name", "family_name", "birth_date")},
        "sex": cols["sex"], "phone": b.phones(hh.loc[who.household_id, "phone"].reset_index(drop=True)).to_numpy(),
        "governorate": b.governorate_text(who["governorate_code"]).to_numpy(),
        "programme_code": np.where(rng.random(len(who)) < 0.6, "NEP_EMPLOYMENT", "VTC_TRAINING"),
        "started_on": b.dates(started.date, MIXED).to_numpy(), "ended_on": b.dates(ended, MIXED).to_numpy(),
        "outcome": outcome, "placed_on": b.dates(np.where(outcome == "placed", ended, None), MIXED).to_numpy(),
    })
    frame = b.inject("labour_programmes", "participants", frame, "participant_id", 0.003, {
        "missing_required": _set("first_name", None), "value_not_allowed": _set("outcome", "unknown"),
        "impossible_date": _set("started_on", "31/04/2024")})
    truth = who.reset_index(drop=True)
    b.out.add("labour_programmes", "participants", frame, "participant_id",
              _truth_for(frame, "participant_id", truth), _truth_for(frame, "participant_id", truth, "household_id"))


def _truth_for(frame: pd.DataFrame, key: str, truth: pd.DataFrame, column: str = "person_id") -> pd.Series:
    """Truth aligned to `frame` rows (injected duplicate rows repeat their original's truth)."""
    base = pd.Series(truth[column].to_numpy(), index=frame[key].iloc[:len(truth)].to_numpy())
    base = base[~base.index.duplicated()]
    return pd.Series(base.reindex(frame[key]).to_numpy())


def health_insurance(b: SourceBuilder, naf: pd.DataFrame) -> None:
    rng, people = b.rng, b.people
    on_naf = people.household_id.isin(naf.household_id[naf.status == "active"])
    coverage = np.where(on_naf, "takaful_exemption", np.where(people.age < 6, "child_under6",
               np.where(people.age >= 60, "elderly", np.where(people.has_disability, "disability", "civil"))))
    covered = ~people.is_refugee & (on_naf | (people.age < 6) | (rng.random(len(people)) < 0.3))
    who = people[covered]
    rates = NoiseRates(spelling=0.05, typo=0.015, missing_grandfather=0.15, id_missing=0.005, id_typo=0.006)
    cols = b.person_columns(who, rates)
    started = pd.Timestamp(b.as_of) - pd.to_timedelta(rng.integers(30, 2000, len(who)), unit="D")
    frame = pd.DataFrame({
        "insured_id": b.ids("CIP", len(who)), **{c: cols[c].to_numpy() for c in
        ("national_id", "first_name", "father_name", "grandfather_name", "family_name", "birth_date")},
        "sex": cols["sex"], "coverage_type": coverage[covered.to_numpy()],
        "started_on": b.dates(started.date, MIXED).to_numpy(),
        "ended_on": b.dates(np.where(rng.random(len(who)) < 0.05, (pd.Timestamp(b.as_of) + pd.Timedelta(days=60)).date(), None)).to_numpy(),
    })
    b.out.add("health_insurance", "members", frame, "insured_id", who.person_id, who.household_id)


def school_enrolment(b: SourceBuilder) -> None:
    rng, people = b.rng, b.people
    kids = people[people.in_school]
    year_end = b.as_of.year if b.as_of.month >= 9 else b.as_of.year - 1
    years = [f"{year_end - 1}/{year_end}", f"{year_end}/{year_end + 1}"]
    rates = NoiseRates(spelling=0.06, typo=0.02, missing_grandfather=0.1, id_missing=0.04, id_typo=0.01)
    cols = b.person_columns(kids, rates)
    student_id = b.ids("STU", len(kids))
    frames = []
    for k, year in enumerate(years):
        grade = np.clip(kids["age"].to_numpy() - 6 - (1 - k), 0, 12)
        frames.append(pd.DataFrame({
            "student_id": student_id, **{c: cols[c].to_numpy() for c in
            ("national_id", "first_name", "father_name", "grandfather_name", "family_name", "birth_date")},
            "sex": cols["sex"], "school_id": np.char.add("SCH", (rng.integers(1000, 4000, len(kids))).astype(str)).astype(object),
            "governorate": b.governorate_text(kids["governorate_code"]).to_numpy(), "academic_year": year,
            "grade": grade.astype(str), "status": np.where(rng.random(len(kids)) < 0.97, "enrolled", "dropped_out"),
            "_person": kids.person_id.to_numpy(), "_household": kids.household_id.to_numpy(),
        }))
    frame = pd.concat(frames, ignore_index=True)
    frame.insert(0, "enrolment_id", b.ids("ENR", len(frame)))
    b.out.add("school_enrolment", "enrolments", frame.drop(columns=["_person", "_household"]), "student_id",
              frame["_person"], frame["_household"])


def unhcr_refugees(b: SourceBuilder) -> None:
    rng, people = b.rng, b.people
    who = people[people.is_refugee]
    rates = NoiseRates(typo=0.03, missing_grandfather=0.3, id_missing=0.0, id_typo=0.0, indic_digits=0.0,
                       date_swap=0.02, sex_error=0.01, dates={"%d-%m-%Y": 0.5, "%Y-%m-%d": 0.5})
    cols = b.person_columns(who, rates, latin=True)
    hh = b.hh.set_index("household_id")
    case = hh.loc[who.household_id, "unhcr_case"].to_numpy()
    rel = who["relation_to_head"].map({"head": "PA", "spouse": "Spouse", "child": "Child"}).to_numpy()
    frame = pd.DataFrame({
        "individual_id": b.ids("UNH", len(who)), "case_number": case, "moi_card_no": who["moi_card_no"].to_numpy(),
        **{c: cols[c].to_numpy() for c in ("first_name", "father_name", "grandfather_name", "family_name", "birth_date")},
        "sex": np.where(rng.random(len(who)) < 0.5, pd.Series(cols["sex"]).map({"M": "Male", "F": "Female"}), cols["sex"]),
        "nationality": who["nationality"].to_numpy(),
        "governorate": [b.aliases[c][1] for c in who["governorate_code"]],
        "phone": b.phones(hh.loc[who.household_id, "phone"].reset_index(drop=True)).to_numpy(),
        "relationship_to_pa": rel,
        "registered_on": b.dates((pd.Timestamp(b.as_of) - pd.to_timedelta(rng.integers(100, 4000, len(who)), unit="D")).date, ISO).to_numpy(),
    })
    frame.loc[rng.random(len(frame)) < 0.3, "moi_card_no"] = None
    b.out.add("unhcr_refugees", "individuals", frame, "individual_id", who.person_id, who.household_id)


def zakat_charity(b: SourceBuilder, naf: pd.DataFrame) -> None:
    """Aid events to poor households, many of them also on Takaful: the duplication risk."""
    rng, hh = b.rng, b.hh
    poorish = hh.consumption_pc_month < float(b.profile.poverty_line_pc_month) * 1.3
    reached = hh[poorish & (rng.random(len(hh)) < 0.18)]
    events = reached.loc[reached.index.repeat(rng.integers(1, 5, len(reached)))]
    heads = b.people.set_index("person_id").loc[events.head_person_id].reset_index()
    # Windows-1256 has no Arabic-Indic digits: this agency's system types ASCII digits.
    rates = NoiseRates(spelling=0.12, typo=0.03, missing_grandfather=0.35, id_missing=0.3, id_typo=0.015, indic_digits=0.0)
    cols = b.person_columns(heads, rates)
    org = np.array(["صندوق الزكاة", "تكية أم علي", "جمعية خيرية"], dtype=object)[rng.choice(3, len(events), p=[0.45, 0.25, 0.3])]
    cash = np.where(org == "تكية أم علي", False, rng.random(len(events)) < 0.7)
    programme = np.where(~cash, "FOOD_PARCEL", np.where(org == "صندوق الزكاة", "ZAKAT_CASH", "CHARITY_CASH"))
    amount = np.where(cash, np.round(rng.choice([30, 50, 75, 100, 150], len(events)), 2), np.round(rng.uniform(20, 60, len(events)), 2))
    when = pd.Timestamp(b.months[0].start_time) + pd.to_timedelta(rng.integers(0, 720, len(events)), unit="D")
    frame = pd.DataFrame({
        "aid_id": b.ids("ZK", len(events)), "national_id": cols["national_id"].to_numpy(),
        "full_name": b.full_name(cols).to_numpy(), "phone": b.phones(events["phone"].reset_index(drop=True), indic=0.0).to_numpy(),
        "governorate": b.governorate_text(events["governorate_code"].reset_index(drop=True), 0.5).to_numpy(),
        "organisation": org, "programme_code": programme, "aid_type": np.where(cash, "نقدي", "عيني"),
        "amount": [f"{a:.2f}" for a in amount], "aid_on": b.dates(when.date, SLASHED).to_numpy(),
    })
    frame = b.inject("zakat_charity", "aid", frame, "aid_id", 0.003, {
        "negative_amount": _set("amount", "-50.00"), "missing_required": _set("full_name", None),
        "duplicate_key": None})
    truth = heads.reset_index(drop=True)
    b.out.add("zakat_charity", "aid", frame, "aid_id", _truth_for(frame, "aid_id", truth),
              _truth_for(frame, "aid_id", truth, "household_id"))


def emergency_cash(b: SourceBuilder, naf: pd.DataFrame) -> None:
    rng, hh = b.rng, b.hh
    shocks, pays, truth = [], [], []
    for spec in b.rules.get("shocks", []):
        month = b.months[min(int(spec["month"]), len(b.months) - 1)]
        declared = month.start_time + pd.Timedelta(days=int(rng.integers(0, 20)))
        shocks.append({"shock_id": spec["id"], "name_en": spec["name_en"], "name_ar": spec["name_ar"],
                       "shock_type": spec["type"], "declared_on": declared.date().isoformat(),
                       "affected_governorates": ";".join(spec["governorates"]), "programme_code": spec["programme"]})
        affected = hh[hh.governorate_code.isin(spec["governorates"]) &
                      (hh.consumption_pc_month < float(b.profile.poverty_line_pc_month) * 1.5)]
        on_naf = affected.household_id.isin(naf.household_id)
        paid = affected[rng.random(len(affected)) < np.where(on_naf, 0.9, 0.55)]
        naf_ids = naf.set_index("household_id")["naf_household_id"].reindex(paid.household_id).to_numpy()
        delay = np.minimum(rng.gamma(2.0, 6.0, len(paid)).astype(int) + 2, 90)
        heads = b.people.set_index("person_id").loc[paid.head_person_id].reset_index()
        pays.append(pd.DataFrame({
            "shock_id": spec["id"], "programme_code": spec["programme"], "naf_household_id": naf_ids,
            "paid_on": (declared + pd.to_timedelta(delay, unit="D")).date, "is_top_up": pd.notna(naf_ids),
            "amount": np.where(pd.notna(naf_ids), 50.0, np.minimum(70 + 10 * paid["size"].to_numpy(), 150)),
            "governorate_code": paid.governorate_code.to_numpy(), "phone": paid.phone.to_numpy(),
        }))
        truth.append(heads)
    b.out.add("emergency_cash", "shocks", pd.DataFrame(shocks))
    if not pays:
        return
    pay = pd.concat(pays, ignore_index=True)
    heads = pd.concat(truth, ignore_index=True)
    rates = NoiseRates(spelling=0.1, typo=0.03, missing_grandfather=0.4, id_missing=0.05, id_typo=0.01)
    cols = b.person_columns(heads, rates)
    status = np.where(rng.random(len(pay)) < 0.96, "paid", "failed")
    frame = pd.DataFrame({
        "payment_id": b.ids("EMG", len(pay)), "shock_id": pay.shock_id, "programme_code": pay.programme_code,
        "national_id": cols["national_id"].to_numpy(), "naf_household_id": pay.naf_household_id,
        "full_name": b.full_name(cols).to_numpy(), "phone": b.phones(pay["phone"]).to_numpy(),
        "governorate": b.governorate_text(pay["governorate_code"]).to_numpy(),
        "amount": [f"{a:.2f}" for a in pay["amount"]], "is_top_up": np.where(pay.is_top_up, "1", "0"),
        "paid_on": b.dates(np.where(status == "paid", pay["paid_on"], None), MIXED).to_numpy(), "status": status,
    })
    b.out.add("emergency_cash", "payments", frame, "payment_id", heads.person_id, heads.household_id)


def grievances(b: SourceBuilder, naf: pd.DataFrame) -> None:
    rng, hh = b.rng, b.hh
    on_naf = hh.household_id.isin(naf.household_id)
    who_hh = hh[rng.random(len(hh)) < np.where(on_naf, 0.06, 0.01)]
    heads = b.people.set_index("person_id").loc[who_hh.head_person_id].reset_index()
    rates = NoiseRates(spelling=0.1, typo=0.04, missing_grandfather=0.5, id_missing=0.25, id_typo=0.01)
    cols = b.person_columns(heads, rates)
    opened = pd.Timestamp(b.months[0].start_time) + pd.to_timedelta(rng.integers(0, 720, len(heads)), unit="D")
    resolved_days = rng.gamma(1.6, 12, len(heads)).astype(int)
    is_resolved = (rng.random(len(heads)) < 0.8) & ((opened + pd.to_timedelta(resolved_days, unit="D")) < pd.Timestamp(b.as_of))
    texts = np.array(["لم تصلني الدفعة الشهرية", "أطلب إعادة تقييم الأسرة", "تم استبعادي من البرنامج",
                      "تأخر صرف المساعدة", "استفسار عن شروط الاستحقاق"], dtype=object)
    frame = pd.DataFrame({
        "grievance_id": b.ids("GRV", len(heads)), "national_id": cols["national_id"].to_numpy(),
        "full_name": b.full_name(cols).to_numpy(), "phone": b.phones(who_hh["phone"].reset_index(drop=True)).to_numpy(),
        "governorate": b.governorate_text(who_hh["governorate_code"].reset_index(drop=True)).to_numpy(),
        "programme_code": np.where(on_naf.loc[who_hh.index].to_numpy(), "TAKAFUL", None),
        "category": np.array(["eligibility", "payment", "exclusion", "conduct", "information", "other"], dtype=object)[rng.choice(6, len(heads), p=[0.3, 0.3, 0.15, 0.05, 0.15, 0.05])],
        "channel": np.array(["portal", "call_centre", "office", "sms"], dtype=object)[rng.choice(4, len(heads), p=[0.35, 0.4, 0.2, 0.05])],
        "opened_on": b.dates(opened.date).to_numpy(),
        "resolved_on": b.dates(np.where(is_resolved, (opened + pd.to_timedelta(resolved_days, unit="D")).date, None)).to_numpy(),
        "outcome": np.where(is_resolved, np.array(["upheld", "rejected", "referred"], dtype=object)[rng.integers(0, 3, len(heads))], "open"),
        "description": texts[rng.integers(0, len(texts), len(heads))],
    })
    b.out.add("grievances", "cases", frame, "grievance_id", heads.person_id, heads.household_id)


def welfare_survey(b: SourceBuilder) -> None:
    rng, hh = b.rng, b.hh
    sample = hh[rng.random(len(hh)) < 0.05]
    heads = b.people.set_index("person_id").loc[sample.head_person_id]
    frame = pd.DataFrame({
        "survey_household_id": b.ids("DOS", len(sample)), "head_national_id": heads["national_id"].to_numpy(),
        "governorate": [b.aliases[c][0] for c in sample.governorate_code], "household_size": sample["size"].astype(str).to_numpy(),
        "consumption_pc_month": np.round(sample.consumption_pc_month.to_numpy() * rng.normal(1, 0.08, len(sample)), 2).astype(str),
        "surveyed_on": b.dates((pd.Timestamp(b.as_of) - pd.to_timedelta(rng.integers(30, 300, len(sample)), unit="D")).date).to_numpy(),
        "sample_weight": np.round(rng.uniform(15, 25, len(sample)), 2).astype(str),
    })
    b.out.add("welfare_survey", "households", frame)
