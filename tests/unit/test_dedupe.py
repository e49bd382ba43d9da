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


def test_a_saved_model_is_reused_and_training_reads_a_bounded_sample(sample, tmp_path, monkeypatch):
    import json

    import assets.linkage.dedupe as dedupe
    from assets.linkage.model import load_config

    members = next((sample / "inbox" / "naf_takaful").glob("naf_members_*"))
    roles = {"national_id": "NATIONAL_NO", "first_name": "FIRST_NAME", "father_name": "FATHER_NAME",
             "grandfather_name": "GRANDFATHER_NAME", "family_name": "FAMILY_NAME", "birth_date": "BIRTH_DATE", "sex": "SEX"}
    records = len(pd.read_csv(members, dtype=str))
    config = load_config()
    config["training"]["max_records"] = records // 2
    monkeypatch.setattr(dedupe, "load_config", lambda: config)
    model = tmp_path / "model.json"
    first = dedupe_files([members], "MEMBER_ID", roles, tmp_path / "first.csv", model=model)
    assert first["model_retrained"] and json.loads(model.read_text(encoding="utf-8"))["training_records"] == records // 2
    again = dedupe_files([members], "MEMBER_ID", roles, tmp_path / "again.csv", model=model)
    assert not again["model_retrained"]
    assert (tmp_path / "first.csv").read_text() == (tmp_path / "again.csv").read_text()


def test_dedupe_trains_with_its_own_training_settings(sample, tmp_path, monkeypatch):
    """config/linkage.yaml's dedupe_training replaces training's settings for `sijil dedupe` only.
    (A file without a national number or a father's name trains too: the prior's rule uses the
    name parts the file has; it used to require the father's name and stop on "math domain error".)"""
    import assets.linkage.dedupe as dedupe
    from assets.linkage.model import load_config

    trained_with = {}
    real = dedupe.link_mentions

    def spy(con, config, *args, **kwargs):
        trained_with.update(config["training"])
        return real(con, config, *args, **kwargs)

    monkeypatch.setattr(dedupe, "link_mentions", spy)
    members = next((sample / "inbox" / "naf_takaful").glob("naf_members_*"))
    dedupe_files([members], "MEMBER_ID", {"first_name": "FIRST_NAME", "family_name": "FAMILY_NAME",
                                          "birth_date": "BIRTH_DATE"}, tmp_path / "out.csv")
    config = load_config()
    assert config["dedupe_training"] and trained_with["u_max_pairs"] == config["dedupe_training"]["u_max_pairs"]
    assert trained_with["u_max_pairs"] != config["training"]["u_max_pairs"]


def _load(tmp_path, text: bytes, name: str = "people.csv", roles=None):
    import duckdb

    from assets.linkage.dedupe import load_records

    path = tmp_path / name
    path.write_bytes(text)
    con = duckdb.connect()
    load_records(con, [path], "ID", roles or {"first_name": "NAME"}, tmp_path)
    return con.execute("select record_id, first_name, birth_date from records order by record_id").fetchall()


def test_files_are_read_whatever_their_delimiter_and_encoding(tmp_path):
    expected = [("1", "محمد", None), ("2", "فاطمة", None), ("3", None, None)]
    assert _load(tmp_path, "ID,NAME\n1,محمد\n2,فاطمة\n3,\n".encode()) == expected
    assert _load(tmp_path, "ID;NAME\n1;محمد\n2;فاطمة\n3;\n".encode("utf-8-sig")) == expected
    assert _load(tmp_path, "ID\tNAME\r\n1\tمحمد\r\n2\tفاطمة\r\n3\t\r\n".encode("cp1256")) == expected
    assert _load(tmp_path, "ID,NAME\n1,José\n".encode("cp1252")) == [("1", "José", None)]
    # a quoted name holding the delimiter, and leading zeros kept
    assert _load(tmp_path, 'ID,NAME,DOB\n007,"Ali, Jr",1990-01-02\n'.encode(), roles={"first_name": "NAME",
                 "birth_date": "DOB"}) == [("007", "Ali, Jr", "1990-01-02")]


def test_unreadable_rows_and_ids_are_errors_naming_the_file_and_line(tmp_path):
    with pytest.raises(SijilError, match=r"people.csv: rows that do not fit the header \(line 3"):
        _load(tmp_path, "ID,NAME\n1,a\n2,b,extra\n".encode())
    with pytest.raises(SijilError, match=r"people.csv: the id column 'ID' must be filled and unique .*1 repeated"):
        _load(tmp_path, "ID,NAME\n1,a\n1,b\n".encode())
    with pytest.raises(SijilError, match="people.csv: the file is empty"):
        _load(tmp_path, b"")
    with pytest.raises(SijilError, match="repeated column names"):
        _load(tmp_path, "ID,NAME,NAME\n1,a,b\n".encode())


def test_names_and_dates_normalised_once_each_match_the_text_macros_record_by_record(tmp_path):
    import duckdb

    from assets.linkage.dedupe import mentions_sql
    from assets.text.duckdb_sql import install_text_macros

    con = duckdb.connect()
    install_text_macros(con)
    con.execute("create schema intermediate")
    con.execute("""create table records as select * from (values
        ('a', '1', 'محمّد', 'أحمد', null, 'الخطيب', null, '09/04/1956'),
        ('a', '2', 'محمد', 'احمد', 'علي', 'الخطيب', null, '1956-04-09'),
        ('a', '3', null, null, null, null, 'Mohammad Ahmad Ali Al-Khatib', '19560409'),
        ('a', '4', 'فاطمة', null, null, null, 'ignored full name', '1750-01-01'),
        ('a', '5', null, null, null, null, 'Al-Khatib, Mohammad Ahmad Ali', '1956-04-09')  -- a list sorted by family name
    ) v(input, record_id, first_name, father_name, grandfather_name, family_name, full_name, birth_date)""")
    for column in ("national_id", "sex", "phone", "address", "locality", "postcode", "governorate"):
        con.execute(f"alter table records add column {column} varchar")
    con.execute("update records set locality = 'Irbid', postcode = ' 21110 ', governorate = 'Irbid' where record_id = '1'")
    con.execute("update records set locality = 'إربد', postcode = '٢١١١٠', governorate = 'اربد', "
                "address = 'شارع الجامعة' where record_id = '2'")
    con.execute(mentions_sql(has_parts=True))
    places = con.execute("select locality_key, postcode, governorate_code, address_translit "
                         "from intermediate.int_person_mentions order by record_key").fetchall()
    # a place meets across scripts; a postal code is its digits
    assert places[0][:3] == places[1][:3] == ("rbt", "21110", "rbt") and places[1][3].isascii()
    assert places[2] == places[3] == (None, None, None, None)
    rows = con.execute("""
        select m.record_key, m.first_name_norm, m.family_name_norm, m.birth_date,
               m.first_name_translit = sj_translit(m.first_name_norm), m.family_name_skeleton = sj_skeleton(m.family_name_norm),
               m.family_name_loose = sj_loose_skeleton(m.family_name_skeleton)
        from intermediate.int_person_mentions m order by 1""").fetchall()
    expected_first = con.execute("select sj_norm_name('محمّد'), sj_name_part('Mohammad Ahmad Ali Al-Khatib', 1), "
                                 "sj_name_part('Mohammad Ahmad Ali Al-Khatib', 4)").fetchall()[0]
    assert rows[0][1] == rows[1][1] == expected_first[0]
    assert (rows[2][1], rows[2][2]) == expected_first[1:] == (rows[4][1], rows[4][2])
    assert [r[3] for r in rows] == [dt.date(1956, 4, 9)] * 3 + [None, dt.date(1956, 4, 9)]  # day-first, ISO, compact; 1750 implausible
    assert all(r[4] is not False and r[5] is not False and r[6] is not False for r in rows)
    assert rows[3][1] == con.execute("select sj_norm_name('فاطمة')").fetchall()[0][0]


def _latin_file(path, corrupt_ids: bool, seed: int = 5) -> dict:
    """A FEBRL-like file (given and family names, compact dates, a 7-digit number, no father's
    name): 600 people, 400 of them with a second, noisy record, whose number is another's when
    `corrupt_ids`, and whose birth date is another in 1 of 8. Returns record id → person."""
    import random

    rng = random.Random(seed)
    given = ["james", "olivia", "lachlan", "amelia", "jack", "isabella", "thomas", "chloe", "william", "emily",
             "joshua", "sophie", "ryan", "grace", "liam", "zoe", "noah", "ruby", "ethan", "mia"]
    family = ["smith", "jones", "brown", "wilson", "taylor", "nguyen", "white", "martin", "thompson", "walker",
              "harris", "lee", "ryan", "robinson", "kelly", "king", "davis", "wright", "evans", "roberts",
              "campbell", "clarke", "hughes", "baker", "parker", "murphy", "turner", "morris", "cooper", "reid"]

    def typo(name):
        i = rng.randrange(len(name))
        return name[:i] + rng.choice("aeiourstln") + name[i + 1:]

    def date():
        return dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(25000))

    rows, person_of = [], {}
    for p in range(600):
        first, last, born, number = rng.choice(given), rng.choice(family), date(), f"{rng.randrange(10**6, 10**7)}"
        postcode = f"{rng.randrange(2000, 7000)}"
        rows.append((f"rec-{p}-org", first, last, born.strftime("%Y%m%d"), number, postcode))
        if p < 400:
            dup_first = typo(first) if rng.random() < 0.2 else first
            dup_born = date() if rng.random() < 0.125 else born
            dup_number = f"{rng.randrange(10**6, 10**7)}" if corrupt_ids and p % 3 == 0 else number
            rows.append((f"rec-{p}-dup-0", dup_first, last, dup_born.strftime("%Y%m%d"), dup_number, postcode))
    path.write_text("rec_id, given_name, surname, date_of_birth, soc_sec_id, postcode\n"
                    + "\n".join(", ".join(r) for r in rows) + "\n", encoding="utf-8")
    return {r[0]: r[0].split("-")[1] for r in rows}


@pytest.mark.parametrize("corrupt_ids", [True, False])
def test_a_file_whose_numbers_are_often_wrong_is_linked_by_the_rest_of_its_records(tmp_path, corrupt_ids):
    """A third of the second records carry another number and an eighth another birth date: the
    trained model finds one person's records disagreeing on them too often for either to veto a
    link (config vetoes.max_m), and the names, dates and postcodes link them. Where the numbers are
    right, they keep their veto. Header names written with a space after each comma are found."""
    import json

    people = _latin_file(tmp_path / "febrl_like.csv", corrupt_ids)
    out, model = tmp_path / "clusters.csv", tmp_path / "model.json"
    roles = {"first_name": "given_name", "family_name": "surname", "birth_date": "date_of_birth",
             "national_id": "soc_sec_id", "postcode": "postcode"}
    dedupe_files([tmp_path / "febrl_like.csv"], "rec_id", roles, out, model=model)
    lifted = json.loads(model.read_text(encoding="utf-8"))["vetoes_lifted"]
    assert ("national_id" in lifted) == corrupt_ids, lifted
    clusters = pd.read_csv(out, dtype=str)
    clusters["person"] = clusters.record_id.map(people)
    predicted, actual = _pairs(clusters, "cluster_id"), _pairs(clusters, "person")
    precision, recall = len(predicted & actual) / len(predicted), len(predicted & actual) / len(actual)
    assert precision >= 0.99 and recall >= 0.9, (precision, recall)
    wrong_number = {(f"rec-{p}-dup-0", f"rec-{p}-org") for p in range(0, 400, 3)}
    if corrupt_ids:
        assert len(predicted & wrong_number) >= 0.85 * len(wrong_number), len(predicted & wrong_number) / len(wrong_number)


def test_a_mapped_column_is_found_whatever_the_spaces_around_it_or_its_case():
    from assets.linkage.dedupe import column_named

    columns = ["rec_id", " given_name", " Surname", "NAME", "name"]
    assert column_named("rec_id", columns) == "rec_id"
    assert column_named("given_name", columns) == " given_name"
    assert column_named("surname", columns) == " Surname"
    assert column_named("Name", columns) is None  # two columns differ from it only in case: neither is chosen
    assert column_named("name", columns) == "name"  # ... unless one is spelled exactly so
    assert column_named("postcode", columns) is None


def test_birth_dates_are_read_from_date_cells_timestamps_and_month_names(tmp_path):
    """A spreadsheet's date cell and a Parquet timestamp read as text with a time of day
    ('1956-04-09 00:00:00'); clerks also write month names. All are one date."""
    import duckdb

    from assets.linkage.dedupe import load_records, mentions_sql
    from assets.text.duckdb_sql import install_text_macros

    born = dt.datetime(1956, 4, 9)
    pd.DataFrame({"ID": ["x1"], "NAME": ["Ali"], "DOB": [born]}).to_excel(tmp_path / "cells.xlsx", index=False)
    pd.DataFrame({"ID": ["p1"], "NAME": ["Ali"], "DOB": [pd.Timestamp(born)]}).to_parquet(tmp_path / "stamps.parquet")
    (tmp_path / "written.csv").write_text("ID,NAME,DOB\nw1,Ali,09-Apr-1956\nw2,Ali,9 April 1956\nw3,Ali,\"Apr 9, 1956\"\n"
                                          "w4,Ali,1956-04-09T00:00:00.000Z\nw5,Ali,not a date\n", encoding="utf-8")
    con = duckdb.connect()
    install_text_macros(con)
    con.execute("create schema intermediate")
    load_records(con, [tmp_path / "cells.xlsx", tmp_path / "stamps.parquet", tmp_path / "written.csv"], "ID",
                 {"first_name": "NAME", "birth_date": "DOB"}, tmp_path)
    con.execute(mentions_sql(has_parts=True))
    dates = dict(con.execute("select record_key, birth_date from intermediate.int_person_mentions").fetchall())
    assert dates == {"x1": born.date(), "p1": born.date(), "w1": born.date(), "w2": born.date(), "w3": born.date(),
                     "w4": born.date(), "w5": None}



def test_a_placeholder_number_is_left_out_rather_than_blocking_its_bearers_together(tmp_path):
    """'0000000' (one digit repeated) and a number on more records than one person may have
    (max_records_per_number) are a form's default or a clerk's filler: a million-record file where a
    third carry one would pair each of them with every other. The records keep their other roles
    and are compared as records without a number; a number on a few records stays. The first is
    left out of the mentions (as staging leaves it out of the registry), the second by the
    linkage's features, which the pipeline's linkage reads too."""
    import duckdb

    from assets.linkage.dedupe import mentions_sql
    from assets.linkage.model import features_sql, load_config
    from assets.text.duckdb_sql import install_text_macros

    con = duckdb.connect()
    install_text_macros(con)
    con.execute("create schema intermediate")
    numbers = ["0000000"] * 3 + ["1234567"] * 61 + ["7654321"] * 2 + ["2345678"] * 60
    con.execute("create table records as select 'f' as input, cast(i as varchar) as record_id, n as national_id, "
                "'Ali' as first_name from (select unnest(range(?)) as i, unnest(?) as n)", [len(numbers), numbers])
    for column in ("father_name", "grandfather_name", "family_name", "full_name", "birth_date", "sex", "phone",
                   "address", "locality", "postcode", "governorate"):
        con.execute(f"alter table records add column {column} varchar")
    con.execute(mentions_sql(has_parts=True))
    mentioned = dict(con.execute("select coalesce(national_id, 'left out'), count(*) from intermediate.int_person_mentions "
                                 "group by all").fetchall())
    assert mentioned == {"left out": 3, "1234567": 61, "7654321": 2, "2345678": 60}
    config = load_config()
    assert config["max_records_per_number"] == 60
    compared = dict(con.execute(f"select coalesce(national_id, 'left out'), count(*) from ({features_sql(config)}) "
                                "group by all").fetchall())
    assert compared == {"left out": 64, "7654321": 2, "2345678": 60}
