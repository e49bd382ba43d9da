"""`sijil dedupe` on files it has never seen: Arabic with duplicates, and Arabic linked to Latin."""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
import pytest

from assets.errors import SijilError
from assets.linkage.dedupe import dedupe_files
from assets.synthetic import generate
from orchestration.cli import main


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("dedupe")
    generate("jordan", 3000, 9, out, as_of=dt.date(2025, 6, 30))
    return out


def _pairs(frame: pd.DataFrame, key: str) -> set:
    return {tuple(sorted(p)) for _, g in frame.groupby(key) for p in itertools.combinations(g["record_id"], 2)}


def test_dedupes_one_arabic_file_against_truth(sample, tmp_path):
    members = next((sample / "inbox" / "naf_takaful").glob("naf_members_*"))
    out = tmp_path / "clusters.csv"
    roles = {"national_id": "NATIONAL_NO", "first_name": "FIRST_NAME", "father_name": "FATHER_NAME",
             "grandfather_name": "GRANDFATHER_NAME", "family_name": "FAMILY_NAME", "birth_date": "BIRTH_DATE", "sex": "SEX"}
    summary = dedupe_files([members], "MEMBER_ID", roles, out)
    clusters = pd.read_csv(out, dtype=str)
    assert list(clusters.columns) == ["input", "record_id", "cluster_id", "match_probability"]
    truth = pd.read_parquet(sample / "truth" / "records.parquet")
    truth = truth[(truth.source == "naf_takaful") & (truth.entity == "members")].rename(columns={"record_key": "record_id"})
    predicted, actual = _pairs(clusters, "cluster_id"), _pairs(truth, "person_id")
    assert len(actual) > 5
    precision = len(predicted & actual) / len(predicted)
    recall = len(predicted & actual) / len(actual)
    assert precision > 0.95 and recall > 0.8, (precision, recall)
    assert summary["records"] == len(clusters)


def test_links_arabic_records_to_latin_transliterations(sample, tmp_path):
    school = next((sample / "inbox" / "school_enrolment").glob("*.csv"))
    unhcr = next((sample / "inbox" / "unhcr_refugees").glob("*.csv"))
    frame = pd.read_csv(school, dtype=str).drop_duplicates("STUDENT_ID")
    school_file = tmp_path / "school.csv"
    frame.to_csv(school_file, index=False)
    refugees = pd.read_csv(unhcr, dtype=str).rename(columns={"GIVEN_NAME": "STUDENT_NAME", "DATE_OF_BIRTH": "BIRTH_DATE",
                                                             "INDIVIDUAL_ID": "STUDENT_ID"})
    unhcr_file = tmp_path / "unhcr.csv"
    refugees.to_csv(unhcr_file, index=False)
    out = tmp_path / "linked.csv"
    roles = {"first_name": "STUDENT_NAME", "father_name": "FATHER_NAME", "grandfather_name": "GRANDFATHER_NAME",
             "family_name": "FAMILY_NAME", "birth_date": "BIRTH_DATE", "sex": "SEX"}
    dedupe_files([school_file, unhcr_file], "STUDENT_ID", roles, out)
    clusters = pd.read_csv(out, dtype=str)
    truth = pd.read_parquet(sample / "truth" / "records.parquet")
    truth = truth[truth.source.isin(["school_enrolment", "unhcr_refugees"])].rename(columns={"record_key": "record_id"})
    merged = clusters.merge(truth[["record_id", "person_id", "source"]], on="record_id")
    cross = merged.groupby("person_id").filter(lambda g: g["input"].nunique() == 2)
    assert cross["person_id"].nunique() > 20
    linked = cross.groupby("person_id")["cluster_id"].nunique().eq(1).mean()
    assert linked > 0.6, linked


def test_bad_arguments_are_plain_errors(sample, tmp_path, capsys):
    members = next((sample / "inbox" / "naf_takaful").glob("naf_members_*"))
    with pytest.raises(SijilError, match="no column"):
        dedupe_files([members], "MEMBER_ID", {"first_name": "NOPE"}, tmp_path / "x.csv")
    assert main(["dedupe", str(members), "--id-column", "MEMBER_ID", "--map", "eye_colour=X", "--out", str(tmp_path / "x.csv")]) == 2
    assert "unknown role" in capsys.readouterr().err
