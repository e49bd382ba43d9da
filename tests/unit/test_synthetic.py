"""The generator: realistic structure, noise measured against its own truth, contract fidelity."""

from __future__ import annotations

import datetime as dt
import fnmatch

import pandas as pd
import pytest

from assets.profiles import load_profile
from assets.synthetic import default_as_of, generate

AS_OF = dt.date(2025, 12, 31)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    summary = generate("jordan", 4000, 11, out, as_of=AS_OF)
    truth = {name: pd.read_parquet(out / "truth" / f"{name}.parquet")
             for name in ("persons", "households", "records", "injected_defects")}
    return out, summary, truth


def _read(path, entity):
    if entity.format == "excel":
        return pd.read_excel(path, dtype=str, sheet_name=entity.sheet)
    if entity.format == "parquet":
        return pd.read_parquet(path)
    encoding = "cp1256" if entity.source == "zakat_charity" else "utf-8-sig"
    return pd.read_csv(path, dtype=str, encoding=encoding, keep_default_na=False)


def test_deterministic(tmp_path):
    a = generate("jordan", 300, 5, tmp_path / "a", as_of=AS_OF)
    b = generate("jordan", 300, 5, tmp_path / "b", as_of=AS_OF)
    assert a["files"] == b["files"]
    for rel in a["files"]:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes() or rel.endswith(".xlsx")


def test_the_next_month_holds_back_a_share_of_the_listed_entities_and_nothing_is_lost(sample, tmp_path):
    import yaml

    whole, summary, _ = sample
    split = generate("jordan", 4000, 11, tmp_path, as_of=AS_OF, next_month=True)
    profile = load_profile("jordan")
    shares = yaml.safe_load((profile.directory / "synthetic.yaml").read_text(encoding="utf-8"))["next_month"]
    assert set(split["files"].values()) != set(summary["files"].values())
    for contract in profile.sources:
        for entity in contract.entities:
            before = [p for p in (tmp_path / "inbox" / contract.source).iterdir()
                      if fnmatch.fnmatch(p.name, entity.file_pattern)]
            assert [p.name for p in before] == [entity.file_pattern.replace("*", "20251130")]
            parts = [_read(before[0], entity)]
            later = tmp_path / "next_month" / contract.source / entity.file_pattern.replace("*", "20251231")
            assert later.exists() == (entity.table in shares), entity.table
            if later.exists():
                parts.append(_read(later, entity))
                expected = shares[entity.table] * (len(parts[0]) + len(parts[1]))
                assert abs(len(parts[1]) - expected) <= 4 * expected ** 0.5 + 1, entity.table  # a share, by hash
            everything = _read(next((whole / "inbox" / contract.source).glob(entity.file_pattern)), entity)
            joined = pd.concat(parts, ignore_index=True)
            assert sorted(map(tuple, joined.fillna("").to_numpy().tolist())) == \
                sorted(map(tuple, everything.fillna("").to_numpy().tolist())), entity.table


def test_default_as_of_is_end_of_previous_month():
    assert default_as_of(dt.date(2026, 3, 15)) == dt.date(2026, 2, 28)


def test_every_contract_entity_has_a_file_with_its_headers(sample):
    out, _, _ = sample
    for contract in load_profile("jordan").sources:
        for entity in contract.entities:
            files = [p for p in (out / "inbox" / contract.source).iterdir() if fnmatch.fnmatch(p.name, entity.file_pattern)]
            assert len(files) == 1, entity.table
            frame = _read(files[0], entity)
            assert list(frame.columns) == [c.source for c in entity.columns], entity.table
            assert len(frame) > 0, entity.table


def test_encodings_as_agencies_export(sample):
    out, _, _ = sample
    zakat = next((out / "inbox" / "zakat_charity").iterdir()).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        zakat.decode("utf-8")
    assert "اسم_المستفيد" in zakat.decode("cp1256")
    naf = next((out / "inbox" / "naf_takaful").glob("naf_members_*")).read_bytes()
    assert naf.startswith(b"\xef\xbb\xbf") and b"\r\n" in naf


def test_households_and_refugees_are_realistic(sample):
    _, summary, truth = sample
    persons, households = truth["persons"], truth["households"]
    assert summary["persons"] == len(persons) == 4000
    assert 4.4 < households["size"].mean() < 5.2
    assert 0.08 < persons["is_refugee"].mean() < 0.16
    assert persons.loc[persons.is_refugee, "national_id"].isna().all()
    assert persons.loc[~persons.is_refugee, "national_id"].str.fullmatch(r"\d{10}").all()
    assert persons.loc[~persons.is_refugee, "national_id"].is_unique
    assert 0.08 < households["is_poor"].mean() < 0.30


def test_name_frequencies_are_heavy_tailed(sample):
    persons = sample[2]["persons"]
    male = persons.loc[persons.sex == "M", "first_name"].value_counts(normalize=True)
    assert male.index[0] == "محمد" and male.iloc[0] > 0.08
    assert male.iloc[-1] < 0.01


def test_siblings_share_lineage_and_wives_keep_their_names(sample):
    persons = sample[2]["persons"]
    kids = persons[persons.relation_to_head == "child"]
    lineage = kids.groupby("household_id")[["father_name", "grandfather_name", "family_name"]].nunique()
    assert (lineage.max(axis=1) == 1).all()
    heads = persons[(persons.relation_to_head == "head") & (persons.sex == "M")].set_index("household_id")
    with_kids = kids[kids.household_id.isin(heads.index)]
    assert (with_kids["father_name"].to_numpy() == heads.loc[with_kids.household_id, "first_name"].to_numpy()).all()
    wives = persons[persons.relation_to_head == "spouse"].set_index("household_id")
    same = (wives["family_name"] == heads["family_name"].reindex(wives.index)).mean()
    assert same < 0.2  # a wife keeps her own family name (coincidences only)
    assert persons["is_twin"].sum() > 0


def test_noise_rates_per_source_against_truth(sample):
    out, _, truth = sample
    persons = truth["persons"].set_index("person_id")
    records = truth["records"]

    def first_name_mismatch(source, entity, pattern, key_col):
        contract = load_profile("jordan").source(source)
        ent = next(e for e in contract.entities if e.name == entity)
        frame = _read(next((out / "inbox" / source).glob(pattern)), ent)
        keyed = frame.set_index(ent.column(key_col).source)
        rec = records[(records.source == source) & (records.entity == entity)].set_index("record_key")
        rec = rec[rec.index.isin(keyed.index)]
        seen = keyed.loc[rec.index, ent.column("first_name").source]
        return (seen.to_numpy() != persons.loc[rec.person_id, "first_name"].to_numpy()).mean()

    civil = first_name_mismatch("civil_registry", "persons", "civil_registry_*", "national_id")
    naf = first_name_mismatch("naf_takaful", "members", "naf_members_*", "member_id")
    assert civil < 0.03           # the civil registry is the cleanest source
    assert 0.01 < naf < 0.2       # NAF has realistic spelling noise
    assert naf > civil


def test_latin_names_for_refugees(sample):
    out, _, _ = sample
    frame = pd.read_csv(next((out / "inbox" / "unhcr_refugees").iterdir()), dtype=str)
    assert frame["GIVEN_NAME"].str.match(r"^[A-Za-z' -]+$").mean() > 0.99


def test_injected_defects_are_recorded(sample):
    defects = sample[2]["injected_defects"]
    assert {"negative_amount", "missing_required", "duplicate_key", "impossible_date", "value_not_allowed"} <= set(defects.defect)


def test_records_truth_covers_every_person_grain_row(sample):
    out, _, truth = sample
    records = truth["records"]
    for contract in load_profile("jordan").sources:
        for entity in contract.entities:
            if entity.grain not in ("person", "person_month", "person_year") and entity.table != "zakat_charity__aid":
                continue
            key = {"person_month": "insured_no", "person_year": "student_id"}.get(entity.grain, entity.primary_key[0])
            frame = _read(next((out / "inbox" / contract.source).glob(entity.file_pattern)), entity)
            keys = set(frame[entity.column(key).source].dropna())
            covered = set(records.loc[(records.source == contract.source) & (records.entity == entity.name), "record_key"])
            assert keys <= covered, entity.table
