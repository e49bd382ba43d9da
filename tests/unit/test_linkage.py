"""Linkage: the evaluation metric, stable master ids, reviewers' decisions, the safeguard."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from assets.errors import SijilError
from assets.linkage.evaluate import pairwise_scores
from assets.linkage.model import load_config, prediction_rules
from assets.linkage.run import link_mentions
from assets.text import arabic as ar


def test_pairwise_scores_match_a_hand_count():
    con = duckdb.connect()
    # truth: a,b,c are one person; d,e another. clusters: {a,b}, {c,d,e}
    con.execute("create table t as select * from (values ('a','P1'),('b','P1'),('c','P1'),('d','P2'),('e','P2')) v(mention_id, person)")
    con.execute("create table c as select * from (values ('a','C1'),('b','C1'),('c','C2'),('d','C2'),('e','C2')) v(mention_id, cluster)")
    s = pairwise_scores(con, "c", "t")
    # predicted pairs: 1 + 3 = 4; true pairs: 3 + 1 = 4; true positives: ab, de = 2
    assert (s["predicted_pairs"], s["true_pairs"], s["true_positive_pairs"]) == (4, 4, 2)
    assert s["precision"] == s["recall"] == s["f1"] == 0.5


def test_each_subsets_scores_are_those_of_its_records_alone():
    """subset_scores counts every subset in one pass; each must equal pairwise_scores over the
    truth records of that subset alone."""
    from assets.linkage.evaluate import SUBSETS, subset_scores

    con = duckdb.connect()
    con.execute("""create table t as select 'm' || i as mention_id, 'P' || (i // 3) as person,
                   case when (i // 3) % 4 = 0 or i % 11 = 0 then null else 'N' || (i // 3) end as national_id,
                   case when (i // 3) % 3 = 0 then 'M' when i % 7 = 0 then null else 'F' end as sex
                   from range(600) r(i)""")
    con.execute("create table c as select mention_id, 'C' || (hash(person) % 150 + (hash(mention_id) % 9 = 0)::int) "
                "as cluster from t")
    scores = subset_scores(con, "c", "t")
    assert set(scores) == set(SUBSETS)
    for name, condition in SUBSETS.items():
        con.execute(f"create or replace view subset_only as select * from t where {condition.format(t='t')}")
        assert scores[name] == pairwise_scores(con, "c", "subset_only"), name
        assert 0 < scores[name]["true_positive_pairs"] < scores[name]["predicted_pairs"]
    expected = pairwise_scores(con, "c", "(select * from t where national_id is null)")
    assert scores["no_national_id"] == expected
    assert expected["records"] == con.execute("select count(*) from t where national_id is null").fetchall()[0][0]


def _loose(name):
    return ar.loose_skeleton(ar.skeleton(name)) if ar.skeleton(name) else None


def _person(mid, source, first, father, grandfather, family, birth, sex, nid=None):
    return dict(mention_id=mid, source=source, entity="e", record_key=mid, household_ref=None, national_id=nid,
                other_id_type=None, other_id=None, full_name=None,
                first_name_norm=ar.normalize_name(first), father_name_norm=ar.normalize_name(father),
                grandfather_name_norm=ar.normalize_name(grandfather), family_name_norm=ar.normalize_name(family),
                first_name_translit=ar.transliterate(first), father_name_translit=ar.transliterate(father),
                grandfather_name_translit=ar.transliterate(grandfather), family_name_translit=ar.transliterate(family),
                first_name_skeleton=ar.skeleton(first), father_name_skeleton=ar.skeleton(father),
                grandfather_name_skeleton=ar.skeleton(grandfather), family_name_skeleton=ar.skeleton(family),
                first_name_loose=_loose(first), father_name_loose=_loose(father),
                grandfather_name_loose=_loose(grandfather), family_name_loose=_loose(family),
                name_script="latin" if first.isascii() else "ar", birth_date=dt.date.fromisoformat(birth),
                birth_date_is_jan1=birth.endswith("-01-01"), sex=sex, phone="0791234567", governorate_code="AM",
                address_translit=None, locality_translit=None, locality_key=None, postcode=None)


def _registry():
    """A small registry: the same people in two sources, siblings and twins who must stay apart."""
    import random

    rng = random.Random(4)
    rows = []
    firsts = ["محمد", "أحمد", "علي", "عمر", "خالد", "يوسف", "فاطمة", "مريم", "سارة", "نور", "حسن", "زينب"]
    families = ["الخطيب", "العبادي", "الزعبي", "المومني", "العمري", "الحوراني", "الشوبكي", "الطراونة"]
    n = 0
    for h in range(150):
        father, grandfather, family = rng.choice(firsts[:6]), rng.choice(firsts[:6]), rng.choice(families)
        base = dt.date(1980, 1, 1) + dt.timedelta(days=rng.randrange(9000))
        kids = rng.sample(firsts, 3)
        for k, first in enumerate(kids):
            n += 1
            birth = (base + dt.timedelta(days=400 * k if k < 2 else 400)).isoformat()  # kids 1 and 2 are twins
            sex = "F" if first in ("فاطمة", "مريم", "سارة", "نور", "زينب") else "M"
            nid = f"9{n:09d}"
            rows.append(_person(f"civil:{n}", "civil", first, father, grandfather, family, birth, sex, nid))
            variant = first.replace("ة", "ه").replace("أ", "ا")
            rows.append(_person(f"naf:{n}", "naf", variant, father, None, family, birth, sex, nid if k else None))
    return rows


@pytest.fixture()
def warehouse(tmp_path):
    import pandas as pd

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema intermediate; create schema linkage")
    frame = pd.DataFrame(_registry())
    con.register("f", frame)
    con.execute("create table intermediate.int_person_mentions as select * from f")
    return con, tmp_path


def test_links_the_same_person_and_keeps_siblings_and_twins_apart(warehouse):
    con, tmp = warehouse
    config = load_config()
    config["training"]["u_max_pairs"] = 20000
    result = link_mentions(con, config, tmp / "model.json")
    clusters = dict(con.execute("select mention_id, master_person_id from linkage.person_clusters").fetchall())
    same = sum(clusters[f"civil:{i}"] == clusters[f"naf:{i}"] for i in range(1, 451))
    assert same / 450 > 0.95
    # no cluster mixes two people
    mixed = con.execute("""select count(*) from (select master_person_id, count(distinct split_part(mention_id, ':', 2)) n
                           from linkage.person_clusters group by 1) where n > 1""").fetchall()[0][0]
    assert mixed == 0
    assert result.retrained and (tmp / "model.json").exists()

    # A second run reuses the model and keeps every id.
    again = link_mentions(con, config, tmp / "model.json")
    assert not again.retrained
    assert dict(con.execute("select mention_id, master_person_id from linkage.person_clusters").fetchall()) == clusters


def test_the_order_records_arrive_in_does_not_change_the_trained_model(warehouse):
    """Splink samples u from the records in the order it gets them: training reads them in an
    order of its own, so the same records train the same model."""
    import json

    con, tmp = warehouse
    config = load_config()
    config["training"]["u_max_pairs"] = 20000  # a sample of the 400,000 pairs, not all of them
    link_mentions(con, config, tmp / "first.json")
    con.execute("create or replace table intermediate.int_person_mentions as "
                "select * from intermediate.int_person_mentions order by md5(mention_id)")
    link_mentions(con, config, tmp / "second.json")
    first, second = (json.loads((tmp / name).read_text(encoding="utf-8"))["splink_settings"]
                     for name in ("first.json", "second.json"))
    assert first["comparisons"] == second["comparisons"]
    assert first["probability_two_random_records_match"] == second["probability_two_random_records_match"]


def test_review_decisions_are_respected(warehouse):
    con, tmp = warehouse
    config = load_config()
    link_mentions(con, config, tmp / "model.json")
    con.execute("create table linkage.review_decisions as select 'civil:1' as mention_id_l, 'naf:1' as mention_id_r, 'non_match' as decision "
                "union all select 'civil:4', 'civil:7', 'match'")
    link_mentions(con, config, tmp / "model.json")
    c = dict(con.execute("select mention_id, master_person_id from linkage.person_clusters").fetchall())
    assert c["civil:1"] != c["naf:1"]
    assert c["civil:4"] == c["civil:7"]


def test_a_cluster_split_off_its_first_record_gives_that_record_an_id_never_given_before(warehouse):
    """A new master person is named by its first record; the record that named the whole cluster,
    split off alone, must not take the id the larger part carries on."""
    con, tmp = warehouse
    config = load_config()
    con.execute("insert into intermediate.int_person_mentions select * replace ('zz:1' as mention_id, 'zz' as source) "
                "from intermediate.int_person_mentions where mention_id = 'naf:1'")
    link_mentions(con, config, tmp / "model.json")
    before = dict(con.execute("select mention_id, master_person_id from linkage.person_clusters").fetchall())
    assert before["civil:1"] == before["naf:1"] == before["zz:1"]
    con.execute("create table linkage.review_decisions as select 'civil:1' as mention_id_l, 'naf:1' as mention_id_r, "
                "'non_match' as decision union all select 'zz:1', 'civil:1', 'non_match'")
    link_mentions(con, config, tmp / "model.json")
    after = dict(con.execute("select mention_id, master_person_id from linkage.person_clusters").fetchall())
    assert after["naf:1"] == after["zz:1"] == before["naf:1"]  # the larger part keeps the id
    assert after["civil:1"] not in set(before.values())


def test_oversized_cluster_stops_the_run(warehouse):
    con, tmp = warehouse
    config = load_config()
    config["max_cluster_size"] = 1
    with pytest.raises(SijilError, match="cluster would hold"):
        link_mentions(con, config, tmp / "model.json")


def test_a_number_on_more_records_than_one_person_may_have_links_no_one(warehouse):
    """A well-formed number a form or a clerk put on many people's records (more of them than
    max_records_per_number) is compared as no number: the run neither merges its bearers nor stops."""
    con, tmp = warehouse
    con.execute("""update intermediate.int_person_mentions set national_id = '9999999990'
                   where mention_id in (select mention_id from intermediate.int_person_mentions
                                        where source = 'civil' order by mention_id limit 80)""")
    config = load_config()
    assert config["max_records_per_number"] < 80
    config["training"]["u_max_pairs"] = 20000
    link_mentions(con, config, tmp / "model.json")
    bearers = con.execute("""select count(*), count(distinct c.master_person_id)
                             from linkage.person_clusters c join intermediate.int_person_mentions m using (mention_id)
                             where m.national_id = '9999999990'""").fetchall()[0]
    assert bearers == (80, 80)
    mixed = con.execute("""select count(*) from (select master_person_id, count(distinct split_part(mention_id, ':', 2)) n
                           from linkage.person_clusters group by 1) where n > 1""").fetchall()[0][0]
    assert mixed == 0


def test_a_registry_where_no_two_records_share_a_number_is_linked_by_names_and_dates(warehouse):
    """One agency's export loaded alone, or sources of which only one carries numbers: no pair
    shares a national number, so the model's prior comes from records agreeing on the whole name
    and birth date (training.deterministic_rules_without_numbers). Before, training failed with
    Splink's 'math domain error'."""
    con, tmp = warehouse
    con.execute("update intermediate.int_person_mentions set national_id = null where source = 'naf'")
    config = load_config()
    config["training"]["u_max_pairs"] = 20000
    link_mentions(con, config, tmp / "model.json")
    clusters = dict(con.execute("select mention_id, master_person_id from linkage.person_clusters").fetchall())
    assert sum(clusters[f"civil:{i}"] == clusters[f"naf:{i}"] for i in range(1, 451)) / 450 > 0.95
    mixed = con.execute("""select count(*) from (select master_person_id, count(distinct split_part(mention_id, ':', 2)) n
                           from linkage.person_clusters group by 1) where n > 1""").fetchall()[0][0]
    assert mixed == 0


def test_training_stops_with_a_clear_error_when_no_two_records_agree_on_anything(warehouse):
    con, tmp = warehouse
    con.execute("delete from intermediate.int_person_mentions where source = 'naf'")
    with pytest.raises(SijilError, match="cannot be trained"):
        link_mentions(con, load_config(), tmp / "model.json")


def test_review_queue_names_the_evidence_and_exports_csv(warehouse):
    import pandas as pd

    from assets.linkage.run import export_review_queue

    con, tmp = warehouse
    config = load_config()
    config["thresholds"]["auto_link"] = 0.99999  # push pairs into review
    link_mentions(con, config, tmp / "model.json")
    rows = export_review_queue(con, tmp / "review.csv")
    assert rows > 0
    queue = pd.read_csv(tmp / "review.csv", encoding="utf-8-sig")
    assert {"mention_id_l", "mention_id_r", "match_probability", "reasons", "full_name_l", "full_name_r"} <= set(queue.columns)
    assert queue["reasons"].str.contains("first_name: ").all()


def test_blocking_recall_counts_true_pairs_some_rule_generates():
    from assets.linkage.blocking import blocking_recall, blocking_recall_by_subset

    con = duckdb.connect()
    con.execute("""create table f as select * from (values
        ('a', 'X1', 'mhmd', date '1990-01-02'), ('b', 'X1', 'mhmd', date '1990-01-02'),
        ('c', null, 'mhmd', date '1990-01-02'), ('d', null, 'ahmd', date '1991-05-05')
    ) v(unique_id, national_id, first_s, birth_date)""")
    con.execute("create table t as select * from (values ('a','P1'),('b','P1'),('c','P1'),('d','P2')) v(mention_id, person)")
    config = {"blocking_rules": [["national_id"], "l.first_s = r.first_s and l.birth_date = r.birth_date"]}
    assert blocking_recall(con, "t", "f", config)["blocking_recall"] == 1.0
    # only the identifier rule: a-b is generated, a-c and b-c are not (c has no number)
    only_id = blocking_recall(con, "t", "f", {"blocking_rules": [["national_id"]]})
    assert (only_id["true_pairs"], only_id["blocked_true_pairs"]) == (3, 1)
    # by subset: the pairs both of whose records meet a condition on the truth's columns
    con.execute("create table t2 as select t.*, f.national_id from t join f on f.unique_id = t.mention_id")
    by = blocking_recall_by_subset(con, "t2", "f", {"blocking_rules": [["national_id"]]},
                                   {"all": "true", "numbered": "{t}.national_id is not null", "none": "false"})
    assert by["all"] == only_id
    assert (by["numbered"]["true_pairs"], by["numbered"]["blocked_true_pairs"]) == (1, 1)
    assert by["none"] == {"true_pairs": 0, "blocked_true_pairs": 0, "blocking_recall": 1.0}


def test_a_shared_first_name_and_birth_date_alone_is_not_compared():
    """The prediction rules compare people who share a birth date only with more of the name than
    a common first name (those blocks grow with the square of the records), let a missing name
    part not disagree, meet a Latin record with its Arabic original, forgive a national number
    one slip apart, and do not compare two records whose numbers are two people's (twins with
    numbers of their own, or a namesake without a birth date)."""
    import pandas as pd

    from assets.linkage.model import features_sql, rule_sql

    rows = pd.DataFrame([
        _person("a", "civil", "محمد", "أحمد", "علي", "الخطيب", "1985-03-04", "M", "1000000001"),
        _person("b", "civil", "محمد", "يوسف", "عمر", "العبادي", "1985-03-04", "M", "1000000002"),
        _person("c", "naf", "محمد", "", "", "الخطيب", "1985-03-04", "M"),  # no father name
        _person("d", "civil", "سارة", "أحمد", "علي", "الخطيب", "1985-03-04", "F", "1000000044"),  # a's twin
        _person("e", "unhcr", "Mohammad", "Ahmad", "", "Al-Khatib", "1985-03-04", "M"),
        _person("f", "civil", "محمد", "خالد", "حسن", "الزعبي", "1985-01-01", "M", "1000000006"),
        _person("g", "civil", "محمد", "حسن", "علي", "المومني", "1985-01-01", "M", "1000000007"),
        _person("h", "unhcr", "Mhmad", "Hasan", "", "Almomani", "1985-01-01", "M"),
        _person("i", "ssc", "محمد", "أحمد", "علي", "الخطيب", "1985-03-04", "M", "1000000010"),  # a, two digits swapped
        _person("j", "zakat", "محمد", "أحمد", "علي", "الخطيب", "1985-03-04", "M", "2000000009"),  # a namesake
        _person("k", "zakat", "محمد", "أحمد", "علي", "الخطيب", "1985-03-04", "M"),  # a or a namesake, no number
        _person("u", "unhcr", "Sara", "Ahmad", "", "Al-Khatib", "1985-03-04", "F"),  # d without a number
    ])
    rows.loc[rows.mention_id.isin(["j", "k"]), "birth_date"] = None
    rows.loc[rows.mention_id == "j", "phone"] = "0780000009"
    con = duckdb.connect()
    con.register("rows", rows)
    con.execute("create table m as select * replace (nullif(father_name_skeleton, '') as father_name_skeleton) from rows")
    con.execute(f"create table f as {features_sql(load_config(), 'm')}")
    compared = set()
    for rule in prediction_rules(load_config()):
        compared |= set(con.execute(f"select l.unique_id, r.unique_id from f l join f r "
                                    f"on l.unique_id < r.unique_id and ({rule_sql(rule)})").fetchall())
    assert ("a", "b") not in compared and ("f", "g") not in compared  # common first name, same date: no more
    assert {("a", "c"), ("a", "e"), ("g", "h"), ("a", "i"), ("a", "k"), ("d", "u")} <= compared
    assert ("b", "c") in compared  # c has no father name: first name and date are enough there
    assert ("a", "d") not in compared and ("a", "j") not in compared  # numbers of two people


def _blocking_partners(con, table: str):
    """A function giving the records that some prediction rule pairs with a record of `table`."""
    from assets.linkage.model import features_sql, rule_sql

    con.execute(f"create table f as {features_sql(load_config(), table)}")

    def partners(mention_id):
        found = set()
        for rule in prediction_rules(load_config()):
            found |= {row[0] for row in con.execute(
                f"select r.unique_id from f l join f r on l.unique_id <> r.unique_id and ({rule_sql(rule)}) "
                f"where l.unique_id = ?", [mention_id]).fetchall()}
        return found
    return partners


def test_without_a_birth_date_a_common_name_needs_the_grandfathers_name():
    """A record without a birth date meets the records sharing its first, father's and family
    names; when more than 50 records share them, only those with its grandfather's name."""
    import pandas as pd

    def people(prefix, count, first, family, grandfathers):
        return [_person(f"{prefix}{i}", "civil", first, "أحمد", grandfathers[i % len(grandfathers)], family,
                        f"19{50 + i % 40}-0{1 + i % 9}-1{i % 10}", "M") for i in range(count)]

    rows = pd.DataFrame([
        *people("common", 60, "محمد", "الخطيب", ["علي", "حسن", "عمر"]),
        *people("rare", 10, "يوسف", "الزعبي", ["علي", "حسن"]),
        _person("x_gf", "zakat", "محمد", "أحمد", "علي", "الخطيب", "1950-01-10", "M"),
        _person("x_nogf", "zakat", "محمد", "أحمد", "", "الخطيب", "1950-01-10", "M"),
        _person("y_nogf", "zakat", "يوسف", "أحمد", "", "الزعبي", "1950-01-10", "M"),
    ])
    rows["phone"] = rows["mention_id"]  # no shared phone: only the name rule can compare them
    rows.loc[rows.mention_id.str.contains("_"), "birth_date"] = None
    con = duckdb.connect()
    con.register("rows", rows)
    con.execute("create table m as select * replace (nullif(grandfather_name_skeleton, '') as grandfather_name_skeleton) from rows")
    partners = _blocking_partners(con, "m")

    with_ali = {f"common{i}" for i in range(60) if i % 3 == 0}
    assert partners("x_gf") == with_ali  # a common name: the same grandfather only
    assert partners("x_nogf") == set()  # a common name and no grandfather: no one
    assert partners("y_nogf") == {f"rare{i}" for i in range(10)}  # a rare name: every namesake


def test_a_common_first_name_and_birth_date_needs_the_fathers_and_the_family_name():
    """Records sharing a first name and a birth date meet on either the father's or the family
    name; when more than 20 records share that first name and date, on both."""
    import pandas as pd

    fathers, families = ["أحمد", "خالد", "حسن", "عمر", "يوسف"], ["الخطيب", "الزعبي", "المومني", "العبادي", "النسور"]
    rows = pd.DataFrame([
        *[_person(f"common{i}", "civil", "محمد", fathers[i % 5], "", families[i // 5], "1980-01-01", "M")
          for i in range(25)],
        _person("x", "naf", "محمد", "أحمد", "", "الخطيب", "1980-01-01", "M"),  # common0's name
        _person("y", "naf", "محمد", "", "", "الزعبي", "1980-01-01", "M"),  # no father's name
        *[_person(f"rare{i}", "civil", "سلمى", father, "", "الخطيب", "1980-01-01", "F")
          for i, father in enumerate(["سعيد", "ماجد", "نبيل"])],
        _person("z", "naf", "سلمى", "طارق", "", "الخطيب", "1980-01-01", "F"),
    ])
    rows["phone"] = rows["mention_id"]  # no shared phone: only the name and date rules can compare them
    con = duckdb.connect()
    con.register("rows", rows)
    con.execute("create table m as select * replace (nullif(father_name_loose, '') as father_name_loose, "
                "nullif(father_name_skeleton, '') as father_name_skeleton) from rows")
    partners = _blocking_partners(con, "m")

    assert partners("x") == {"common0"}  # 27 share the name and date: father's and family name both
    assert partners("y") == {f"common{i}" for i in range(5, 10)}  # no father's name: the family name
    assert partners("z") == {"rare0", "rare1", "rare2"}  # 4 share the name and date: either is enough


def test_blocking_analysis_counts_comparisons_per_rule(warehouse):
    from assets.linkage.blocking import comparisons_per_rule
    from assets.linkage.model import mention_features

    con, _ = warehouse
    config = load_config()
    cost = comparisons_per_rule(config, mention_features(con, config))
    assert [c["rule"] for c in cost][0] == "l.national_id = r.national_id"
    assert len(cost) == len(prediction_rules(config))
    cumulative = [c["cumulative_comparisons"] for c in cost]
    assert cumulative == sorted(cumulative) and cumulative[-1] > 0
    assert not any(c["estimated"] for c in cost)
    records = con.execute("select count(*) from intermediate.int_person_mentions").fetchall()[0][0]
    assert cost[-1]["comparisons_per_record"] == round(cumulative[-1] / records, 3)


def test_a_training_pass_that_fails_leaves_every_comparison_in_the_model(warehouse):
    import json

    con, tmp = warehouse
    config = load_config()
    # other_id is empty in these records: that pass finds no pairs and is skipped
    config["training"]["em_blocking_rules"] = [["other_id"], *config["training"]["em_blocking_rules"]]
    link_mentions(con, config, tmp / "model.json", retrain=True)
    saved = json.loads((tmp / "model.json").read_text(encoding="utf-8"))["splink_settings"]
    names = [c["output_column_name"] for c in saved["comparisons"]]
    assert names == ["national_id", "first_name", "lineage", "birth_date", "contact", "location", "name_order", "sex",
                     "other_id"]


def test_a_batch_joining_existing_persons_far_more_than_usual_stops_the_run(warehouse):
    con, tmp = warehouse
    config = load_config()
    link_mentions(con, config, tmp / "model.json")
    before = dict(con.execute("select mention_id, master_person_id from linkage.person_clusters").fetchall())
    # the civil registry sent again under new record keys: every new record joins an existing person
    con.execute("insert into intermediate.int_person_mentions select * replace ('again:' || mention_id as mention_id) "
                "from intermediate.int_person_mentions where source = 'civil'")
    with pytest.raises(SijilError, match=r"new records \(100%\) would join master persons their own source already "
                                         r"lists, where 0% would as usual"):
        link_mentions(con, config, tmp / "model.json")
    # nothing was written
    assert dict(con.execute("select mention_id, master_person_id from linkage.person_clusters").fetchall()) == before
    # once checked, the batch is accepted and joins the existing persons
    result = link_mentions(con, config, tmp / "model.json", accept_large_batch=True)
    after = dict(con.execute("select mention_id, master_person_id from linkage.person_clusters").fetchall())
    assert result.new_records is None
    assert sum(after[f"again:civil:{i}"] == before[f"civil:{i}"] for i in range(1, 451)) > 0.95 * 450


def test_a_month_of_payments_to_people_paid_before_passes_the_safeguard(warehouse):
    """A payments source lists its people every month: a new month joins them all, as usual."""
    con, tmp = warehouse
    config = load_config()

    def pay(month: int) -> None:
        con.execute(f"""insert into intermediate.int_person_mentions
                        select * replace ('pay:' || split_part(mention_id, ':', 2) || ':{month}' as mention_id,
                                          'pay' as source, null as national_id)
                        from intermediate.int_person_mentions
                        where source = 'civil' and cast(split_part(mention_id, ':', 2) as int) <= 300""")

    pay(1)
    pay(2)
    link_mentions(con, config, tmp / "model.json")
    pay(3)
    result = link_mentions(con, config, tmp / "model.json")
    assert result.new_records == 300 and result.new_records_joined_existing > 0.95 * 300


def test_a_batch_of_new_people_passes_the_safeguard(warehouse):
    con, tmp = warehouse
    config = load_config()
    config["batch_safeguard"]["min_new_records"] = 10
    con.execute("create table intermediate.held_back as select * from intermediate.int_person_mentions "
                "where cast(split_part(mention_id, ':', 2) as int) > 390")
    con.execute("delete from intermediate.int_person_mentions where mention_id in (select mention_id from intermediate.held_back)")
    link_mentions(con, config, tmp / "model.json")
    con.execute("insert into intermediate.int_person_mentions select * from intermediate.held_back")
    result = link_mentions(con, config, tmp / "model.json")
    # 120 new records: the last 20 households' children in both sources, people not seen before
    assert result.new_records == 120
    assert result.new_records_joined_existing <= 6


def test_new_mentions_are_linked_against_the_registry_incrementally(warehouse):
    from assets.linkage.incremental import link_new_mentions

    con, tmp = warehouse
    config = load_config()
    config["batch_safeguard"]["min_new_records"] = 10_000  # this batch joins existing persons by design
    # held back: the naf records of households 121-130 (their civil records are linked already)
    # and both records of households 131-150 (people the registry has not seen)
    con.execute("""create table intermediate.held_back as select * from intermediate.int_person_mentions
                   where (source = 'naf' and cast(split_part(mention_id, ':', 2) as int) between 361 and 390)
                      or cast(split_part(mention_id, ':', 2) as int) > 390""")
    con.execute("delete from intermediate.int_person_mentions where mention_id in (select mention_id from intermediate.held_back)")
    link_mentions(con, config, tmp / "model.json")
    before = dict(con.execute("select mention_id, master_person_id from linkage.person_clusters").fetchall())
    con.execute("insert into intermediate.int_person_mentions select * from intermediate.held_back")

    result = link_new_mentions(con, config, tmp / "model.json")
    after = dict(con.execute("select mention_id, master_person_id from linkage.person_clusters").fetchall())
    assert result.new_records == 150 and len(after) == 900
    assert {k: after[k] for k in before} == before  # existing ids untouched
    joined = sum(after[f"naf:{i}"] == before[f"civil:{i}"] for i in range(361, 391))
    assert joined >= 28 and result.joined_existing >= 28
    together = sum(after[f"naf:{i}"] == after[f"civil:{i}"] and after[f"civil:{i}"] not in before.values()
                   for i in range(391, 451))
    assert together >= 57 and result.new_persons >= 57
    assert con.execute("select count(*) from linkage.predictions where mention_id_l like 'naf:4%' "
                       "or mention_id_r like 'naf:4%'").fetchall()[0][0] > 0
    # nothing new: nothing to do
    assert link_new_mentions(con, config, tmp / "model.json").new_records == 0


def test_incremental_linkage_needs_a_linked_registry_and_a_model_of_these_settings(warehouse):
    from assets.linkage.incremental import link_new_mentions

    con, tmp = warehouse
    config = load_config()
    with pytest.raises(SijilError, match="run a full linkage first"):
        link_new_mentions(con, config, tmp / "model.json")
    link_mentions(con, config, tmp / "model.json")
    config["thresholds"]["review"] = 0.4
    config["blocking_rules"] = config["blocking_rules"][:-1]
    with pytest.raises(SijilError, match="run a full linkage"):
        link_new_mentions(con, config, tmp / "model.json")


def _partition(con, mentions: list[str] | None = None) -> set[frozenset]:
    """The clusters as sets of mention ids (optionally only `mentions`), whatever their ids."""
    groups: dict[str, set] = {}
    for mention, master in con.execute("select mention_id, master_person_id from linkage.person_clusters").fetchall():
        if mentions is None or mention in mentions:
            groups.setdefault(master, set()).add(mention)
    return {frozenset(g) for g in groups.values()}


def test_the_linkage_takes_the_incremental_path_by_itself_when_only_new_mentions_arrived(warehouse):
    import shutil

    from assets.linkage.mode import decide, link_registry

    con, tmp = warehouse
    config = load_config()
    config["batch_safeguard"]["min_new_records"] = 10_000  # this batch joins existing persons by design
    model = tmp / "model.json"
    # held back: the naf records of households 121-130 and both records of households 131-150
    con.execute("""create table intermediate.held_back as select * from intermediate.int_person_mentions
                   where (source = 'naf' and cast(split_part(mention_id, ':', 2) as int) between 361 and 390)
                      or cast(split_part(mention_id, ':', 2) as int) > 390""")
    con.execute("delete from intermediate.int_person_mentions where mention_id in (select mention_id from intermediate.held_back)")
    first, _ = link_registry(con, config, model)
    assert (first.mode, first.reason) == ("full", "no trained model yet")
    before = dict(con.execute("select mention_id, master_person_id from linkage.person_clusters").fetchall())

    con.execute("insert into intermediate.int_person_mentions select * from intermediate.held_back")
    decision, result = link_registry(con, config, model)
    assert decision.mode == "incremental" and decision.new_mentions == 150 and result.new_records == 150
    after = dict(con.execute("select mention_id, master_person_id from linkage.person_clusters").fetchall())
    assert {k: after[k] for k in before} == before  # every existing record keeps its master person id

    # A full rebuild of the same records, from scratch, with the same model, clusters the existing
    # records exactly as before, and the new ones (nearly) as the incremental run did.
    rebuilt = duckdb.connect(str(tmp / "rebuilt.duckdb"))
    rebuilt.execute("create schema intermediate; create schema linkage")
    rebuilt.register("all_mentions", con.sql("select * from intermediate.int_person_mentions").to_arrow_table())
    rebuilt.execute("create table intermediate.int_person_mentions as select * from all_mentions")
    shutil.copyfile(model, tmp / "same_model.json")
    full = link_mentions(rebuilt, config, tmp / "same_model.json")
    assert not full.retrained
    assert _partition(rebuilt, set(before)) == _partition(con, set(before))
    rebuilt.register("incremental", con.sql("select mention_id, master_person_id as person "
                                            "from linkage.person_clusters").to_arrow_table())
    agreement = pairwise_scores(rebuilt, "(select mention_id, master_person_id as cluster from linkage.person_clusters)",
                                "incremental")
    assert agreement["f1"] >= 0.99

    # Nothing new: still incremental, nothing to do.
    assert decide(con, config, model).mode == "incremental"
    assert link_registry(con, config, model)[1].new_records == 0


def test_anything_but_new_mentions_makes_the_linkage_relink_everything(warehouse):
    import json

    from assets.linkage.mode import decide, link_registry

    con, tmp = warehouse
    config = load_config()
    model = tmp / "model.json"
    link_registry(con, config, model)
    assert decide(con, config, model).mode == "incremental"
    assert decide(con, config, model, full_relink=True).reason == "a full relink was asked for"
    assert decide(con, config, model, retrain=True).reason == "retraining the model was asked for"

    # a linked record corrected at its source
    con.execute("update intermediate.int_person_mentions set first_name_skeleton = 'xyz' where mention_id = 'civil:5'")
    assert decide(con, config, model).reason == "1 linked mentions changed or were removed since the last run"
    link_registry(con, config, model)
    # a record withdrawn
    con.execute("delete from intermediate.int_person_mentions where mention_id = 'civil:6'")
    assert decide(con, config, model).mode == "full"
    link_registry(con, config, model)
    # a reviewer's decision
    con.execute("create table linkage.review_decisions as select 'civil:1' as mention_id_l, 'naf:1' as mention_id_r, "
                "'non_match' as decision")
    assert decide(con, config, model).reason == "review decisions were added or changed"
    link_registry(con, config, model)
    assert decide(con, config, model).mode == "incremental"
    # clusters made another way (the model is the same)
    other = {**config, "conflicts": {"birth_years_apart": 20}}
    assert decide(con, other, model).reason == \
        "the automatic-link threshold or the conflicts that split clusters changed"
    # a retrained model (or one replaced by hand)
    saved = json.loads(model.read_text(encoding="utf-8"))
    saved["trained_at"] = "2030-01-01T00:00:00+00:00"
    model.write_text(json.dumps(saved), encoding="utf-8")
    assert decide(con, config, model).reason == "the model changed since the registry was linked"
    # changed settings: the model is out of date
    config["thresholds"]["review"] = 0.4
    config["blocking_rules"] = config["blocking_rules"][:-1]
    assert decide(con, config, model).mode == "full"
    with pytest.raises(SijilError, match="incremental linkage is not possible"):
        link_registry(con, config, model, incremental=True)


def test_a_model_trained_on_one_profiles_registries_is_retrained_for_another(warehouse, monkeypatch):
    """One SIJIL_HOME switched to another country profile: the saved model learnt another
    country's registries, so it is out of date and the linkage retrains."""
    from assets.linkage.mode import decide, link_registry

    con, tmp = warehouse
    config = load_config()
    model = tmp / "model.json"
    monkeypatch.setenv("SIJIL_PROFILE", "jordan")
    link_registry(con, config, model)
    assert decide(con, config, model).mode == "incremental"
    monkeypatch.setenv("SIJIL_PROFILE", "iraq")
    assert decide(con, config, model).reason == ("config/linkage.yaml, the features, the name rules or the country "
                                                 "profile changed since the model was trained")
    decision, result = link_registry(con, config, model)
    assert decision.mode == "full" and result.retrained
    assert decide(con, config, model).mode == "incremental"


def test_a_large_share_of_new_mentions_is_relinked_in_full(warehouse):
    from assets.linkage.mode import decide, link_registry

    con, tmp = warehouse
    config = load_config()
    model = tmp / "model.json"
    # households 101-150 held back: 300 new records against 600 linked
    con.execute("create table intermediate.held_back as select * from intermediate.int_person_mentions "
                "where cast(split_part(mention_id, ':', 2) as int) > 300")
    con.execute("delete from intermediate.int_person_mentions where mention_id in (select mention_id from intermediate.held_back)")
    link_registry(con, config, model)
    con.execute("insert into intermediate.int_person_mentions select * from intermediate.held_back")
    decision = decide(con, config, model)
    assert decision.mode == "full" and decision.new_mentions == 300 and "more than 25%" in decision.reason


def test_the_evaluation_reads_the_features_the_linkage_of_its_run_read(warehouse):
    """The linkage hands its features to the evaluation of the same process once, under the id it
    wrote to linkage.linked_state; any other reader, and a reader after the mentions changed,
    computes them from the warehouse — the same values."""
    from assets.linkage import mode
    from assets.linkage.mode import link_registry, linked_features
    from assets.linkage.model import mention_features

    con, tmp = warehouse
    config = load_config()
    link_registry(con, config, tmp / "model.json")
    (kept,) = mode._LINKED_FEATURES.values()
    handed = linked_features(con, config)
    assert handed is kept and not mode._LINKED_FEATURES
    again = linked_features(con, config)  # handed over once: computed now
    assert handed is not again and handed.sort_by("unique_id").equals(again.sort_by("unique_id"))
    linkage_id = dict(con.execute("select key, value from linkage.linked_state").fetchall())["linkage_id"]
    link_registry(con, config, tmp / "model.json")  # nothing new: incremental, a new linkage id
    assert dict(con.execute("select key, value from linkage.linked_state").fetchall())["linkage_id"] != linkage_id
    con.execute("delete from intermediate.int_person_mentions where mention_id in "
                "(select mention_id from intermediate.int_person_mentions limit 3)")
    fresh = linked_features(con, config)  # the mentions changed after the linkage: not its features
    assert fresh.num_rows == handed.num_rows - 3
    assert fresh.sort_by("unique_id").equals(mention_features(con, config).sort_by("unique_id"))


def test_the_training_sample_is_the_same_whatever_the_row_order_and_threads():
    """Which records train the model must not depend on how DuckDB scans them: the same records
    in another order, on one thread or several, give the same sample; another seed another."""
    import duckdb

    from assets.linkage.run import training_sample_sql

    def sample(order: str, threads: int, seed: int = 42) -> list[str]:
        con = duckdb.connect(config={"threads": threads})
        con.execute(f"create table mentions as select 'm' || i as unique_id, i % 7 as x "
                    f"from range(200000) t(i) order by {order}")
        return sorted(r[0] for r in con.execute(training_sample_sql("mentions", 5000, seed)).fetchall())

    first = sample("i", 1)
    assert len(first) == len(set(first)) == 5000
    assert sample("hash(i)", 2) == first == sample("i desc", 2)
    assert len(set(sample("i", 2, seed=7)) & set(first)) < 500  # about 5000²/200000 = 125 by chance
    # uniform: each tenth of the ids holds about a tenth of the sample
    tenths = [sum(1 for m in first if int(m[1:]) // 20000 == t) for t in range(10)]
    assert min(tenths) > 400 and max(tenths) < 600, tenths


def test_location_is_compared_at_the_closest_level_both_records_allow():
    """An address, a locality (in either script), a postal code and a governorate are one piece of
    evidence: the first level that holds, and no evidence at all when the records have nothing
    in common to compare (an address on one, only a governorate on the other)."""
    from assets.linkage.model import comparisons
    from assets.text.duckdb_sql import install_text_macros

    location = next(c.get_comparison("duckdb") for c in comparisons()
                    if c.get_comparison("duckdb").output_column_name == "location")
    levels = [("null" if lv.get("is_null_level") else lv.get("label_for_charts"), lv["sql_condition"])
              for lv in location.as_dict()["comparison_levels"]]
    con = duckdb.connect()
    install_text_macros(con)

    def level(left: dict, right: dict) -> str:
        columns = ("address", "locality", "postcode", "governorate")
        values = {**{f"{c}_l": left.get(c) for c in columns}, **{f"{c}_r": right.get(c) for c in columns}}
        side = ", ".join(f"sj_place(?::varchar) as address_t_{s}, sj_place_key(?::varchar) as locality_key_{s}, "
                         f"sj_postcode(?::varchar) as postcode_{s}, ?::varchar as governorate_{s}" for s in "lr")
        params = [values[f"{c}_{s}"] for s in "lr" for c in columns]
        cases = " ".join(f"when {sql} then '{name}'" for name, sql in levels if sql != "ELSE")
        return con.execute(f"select case {cases} else 'else' end from (select {side})", params).fetchall()[0][0]

    home = {"address": "شارع الجامعة 12", "locality": "Irbid", "postcode": "21110", "governorate": "IR"}
    assert level(home, dict(home)) == "same address"
    assert level(home, {**home, "address": "شارع الجامعه 12"}) == "same address"  # taa marbuta, normalised
    assert level(home, {**home, "address": "شارع الجامعة 14"}) == "close address"
    assert level({**home, "address": None}, {"locality": "إربد", "postcode": "٢١١١٠"}) == "same locality and postal code"
    assert level({"locality": "Irbid", "governorate": "IR"}, {"locality": "اربد", "postcode": "99999"}) \
        == "same locality or postal code"
    assert level({"governorate": "IR"}, {"governorate": "IR", "address": "x"}) == "same governorate"
    assert level({"governorate": "IR"}, {"governorate": "AM"}) == "else"
    assert level({"address": "شارع الجامعة 12"}, {"governorate": "IR"}) == "null"  # nothing both have


def test_a_household_of_minors_follows_its_head_and_an_extended_family_keeps_its_own():
    """A source household belongs to the master household most of its members belong to, but
    children listed only on a later source's card follow their head rather than becoming a
    household of minors; a card with adults of its own (a married son's family) stays apart."""
    from assets.linkage.run import link_households

    today = dt.date(2026, 11, 1)
    people = {  # master person: birth date
        "father": "1980-01-01", "mother": "1985-01-01", "child1": "2015-01-01",
        **{f"kid{i}": f"201{i}-06-01" for i in range(2, 7)},
        "grandad": "1950-01-01", "grandma": "1955-01-01", "uncle": "1990-01-01", "son": "1975-01-01",
        "daughter_in_law": "1978-01-01", **{f"grandkid{i}": f"201{i}-03-01" for i in range(3)},
        "orphan_head": "2010-01-01", "orphan": "2014-01-01",
    }
    households = [  # source, household, relation to head, person
        *[("idp_registry", "idp:1", r, p) for r, p in [("head", "father"), ("spouse", "mother"), ("child", "child1")]],
        *[("pds_ration_card", "rc:1", r, p) for r, p in [("head", "father"), ("spouse", "mother"), ("child", "child1")]
          + [("child", f"kid{i}") for i in range(2, 7)]],
        *[("molsa_spn", "spn:2", r, p) for r, p in [("head", "grandad"), ("spouse", "grandma"), ("child", "uncle")]],
        *[("pds_ration_card", "rc:2", r, p) for r, p in [("head", "grandad"), ("spouse", "grandma"), ("child", "uncle"),
                                                         ("child", "son"), ("other", "daughter_in_law")]
          + [("other", f"grandkid{i}") for i in range(3)]],
        *[("pds_ration_card", "rc:3", r, p) for r, p in [("head", "orphan_head"), ("child", "orphan")]],
    ]
    import pandas as pd

    rows = pd.DataFrame(households, columns=["source", "household_ref", "relation_to_head", "master_person_id"])
    rows["mention_id"] = [f"m{n}" for n in range(len(rows))]
    rows["birth_date"] = pd.to_datetime(rows["master_person_id"].map(people)).dt.date
    con = duckdb.connect()
    con.register("rows", rows)
    con.execute("create schema intermediate; create schema linkage")
    con.execute("create table intermediate.int_household_memberships as "
                "select mention_id, source, household_ref, relation_to_head from rows")
    con.execute("create table linkage.person_clusters as select mention_id, master_person_id from rows")
    con.execute("create table intermediate.int_person_mentions as select mention_id, birth_date from rows")

    link_households(con, ["molsa_spn", "idp_registry", "pds_ration_card"], today)
    links = dict(con.execute("select household_ref, primary_ref from linkage.household_links").fetchall())
    assert links["rc:1"] == links["idp:1"] == "idp:1"  # the five children only on the card follow their father
    assert links["spn:2"] == "spn:2" and links["rc:2"] == "rc:2"  # the son's family: adults of its own
    assert links["rc:3"] == "rc:3"  # minors whose head heads nothing earlier keep their household


def test_a_new_record_is_not_joined_to_a_person_whose_birth_date_it_cannot_share(warehouse):
    """Two new records of one person, one of them without a birth date and matching an existing
    namesake on the name: the pair does not join the namesake, born a generation earlier."""
    from assets.linkage.incremental import link_new_mentions

    con, tmp = warehouse
    config = load_config()
    config["batch_safeguard"]["min_new_records"] = 10_000
    link_mentions(con, config, tmp / "model.json")
    con.execute("""insert into intermediate.int_person_mentions
                   select m.* replace ('late:' || suffix as mention_id, 'late' as source, null as national_id,
                                       birth as birth_date, false as birth_date_is_jan1)
                   from intermediate.int_person_mentions m,
                        (values ('a', null::date), ('b', date '2024-05-27')) as v(suffix, birth)
                   where mention_id = 'naf:5'""")
    result = link_new_mentions(con, config, tmp / "model.json")
    after = dict(con.execute("select mention_id, master_person_id from linkage.person_clusters").fetchall())
    links = dict(con.execute("""select greatest(mention_id_l, mention_id_r), match_probability from linkage.predictions
                                where least(mention_id_l, mention_id_r) = 'late:a'""").fetchall())
    auto = config["thresholds"]["auto_link"]
    assert links["naf:5"] >= auto and links["late:b"] >= auto  # without the birth dates, one person
    assert after["late:a"] == after["late:b"] != after["naf:5"]
    assert result.new_persons == 1


@pytest.mark.parametrize("naf_born_years_earlier", [0, 37])  # 37: more than one keying error apart
def test_a_new_record_linking_two_registered_persons_merges_them_unless_they_cannot_be_one(warehouse,
                                                                                           naf_born_years_earlier):
    """As a full relink would: new records bridging two master persons merge them (the one with
    the most records keeps its id), unless two of their records hold birth dates no one person has."""
    from assets.linkage.incremental import link_new_mentions

    con, tmp = warehouse
    config = load_config()
    config["batch_safeguard"]["min_new_records"] = 10_000
    link_mentions(con, config, tmp / "model.json")
    # an earlier run that had not seen naf:5 and civil:5 as one person (naf:5 also holds another record)
    con.execute("update linkage.person_clusters set master_person_id = 'MPEARLIER' where mention_id = 'naf:5'")
    con.execute("insert into linkage.person_clusters select 'other:5', 'MPEARLIER', 1.0, 2")
    con.execute("insert into intermediate.int_person_mentions select * replace ('other:5' as mention_id, 'other' as source, "
                "null as first_name_norm) from intermediate.int_person_mentions where mention_id = 'naf:5'")
    con.execute(f"update intermediate.int_person_mentions set birth_date = birth_date - interval {naf_born_years_earlier} year "
                "where mention_id in ('naf:5', 'other:5')")
    civil_id = con.execute("select master_person_id from linkage.person_clusters where mention_id = 'civil:5'").fetchall()[0][0]
    con.execute("insert into intermediate.int_person_mentions select * replace ('late:5' as mention_id, 'late' as source, "
                "null as birth_date) from intermediate.int_person_mentions where mention_id = 'civil:5'")
    result = link_new_mentions(con, config, tmp / "model.json")
    after = dict(con.execute("select mention_id, master_person_id from linkage.person_clusters").fetchall())
    if naf_born_years_earlier == 0:
        assert after["civil:5"] == after["naf:5"] == after["other:5"] == after["late:5"] == "MPEARLIER"  # 2 records to 1
        assert (result.merged_persons, result.bridges) == (1, 0)
        assert con.execute("select count(*) from linkage.person_clusters where mention_id = 'naf:5' "
                           "and cluster_size = 4").fetchall()[0][0] == 1
    else:
        assert after["civil:5"] == civil_id and after["naf:5"] == after["other:5"] == "MPEARLIER"
        assert after["late:5"] in (civil_id, "MPEARLIER")
        assert (result.merged_persons, result.bridges) == (0, 1)
        assert con.execute("select count(*) from linkage.review_queue where 'late:5' in (mention_id_l, mention_id_r)"
                           ).fetchall()[0][0] >= 1


def test_a_veto_is_lifted_only_where_the_trained_model_finds_it_unreliable():
    """config vetoes.max_m: a national number or birth date on which one person's records disagree
    more often than that (the m of the comparison's last level) no longer proves two people."""
    from assets.linkage.conflicts import birth_dates_conflict_sql
    from assets.linkage.model import config_for_model, unreliable_fields

    def trained(id_m: float, date_m: float) -> dict:
        return {"comparisons": [
            {"output_column_name": "national_id", "comparison_levels": [{}, {"m_probability": 1 - id_m}, {"m_probability": id_m}]},
            {"output_column_name": "birth_date", "comparison_levels": [{}, {"m_probability": 1 - date_m}, {"m_probability": date_m}]},
            {"output_column_name": "first_name", "comparison_levels": [{}, {"m_probability": 0.5}, {"m_probability": 0.5}]},
        ]}

    config = load_config()
    assert unreliable_fields(trained(0.0013, 1e-12), config) == [] and config_for_model(config, trained(0.0013, 1e-12)) is config
    lifted = config_for_model(config, trained(0.067, 1e-12))
    assert lifted["blocking_conditions"]["numbers_agree"] == "true" and lifted["conflicts"] == config["conflicts"]
    assert config["blocking_conditions"]["numbers_agree"] != "true"  # the configuration itself is left as it was
    dates_lifted = config_for_model(config, trained(0.0013, 0.047))
    assert birth_dates_conflict_sql("a", "b", dates_lifted) == "false"
    assert birth_dates_conflict_sql("a", "b", config) != "false"


def test_the_share_of_pairs_a_comparison_can_judge_pairs_every_record_once_each_side():
    from assets.linkage.model import pairs_carrying

    con = duckdb.connect()
    con.execute("create table r as select 'm' || i as unique_id, case when i = 0 then null else '079' || i end as phone "
                "from range(4) t(i)")
    condition = "phone_l is null or phone_r is null"
    # four ordered pairs, the record without a phone in two of them, whatever the hash order
    assert pairs_carrying(con, "r", condition, 42) == 0.5
    assert pairs_carrying(con, "r", "false", 42) == 1.0
    con.execute("update r set phone = null")
    assert pairs_carrying(con, "r", condition, 1) == 0.0


def test_a_level_chance_never_reached_is_scored_with_a_u_from_the_pairs_sampled(warehouse):
    """A household phone shared with the same first name is all but never reached by chance: in
    a sample of random pairs it may be seen twice, or not at all. Unseen, Splink saved no u and
    scored the level with its generic default (0.00093), 8 bits below two sightings in 60 M pairs.
    Now every level whose m the model trained has a u: an unseen one 3 / the pairs sampled that
    carry a phone and a first name (the rule of three)."""
    import json

    con, tmp = warehouse
    # each person's own phone, on both their records: only one person's records share it
    con.execute("update intermediate.int_person_mentions set phone = '07' || lpad(split_part(mention_id, ':', 2), 8, '0')")
    config = load_config()
    config["training"]["u_max_pairs"] = 300  # a few random pairs: none of them one person's two records
    link_mentions(con, config, tmp / "model.json", retrain=True)
    model = json.loads((tmp / "model.json").read_text(encoding="utf-8"))
    levels = {(c["output_column_name"], level.get("label_for_charts")): level
              for c in model["splink_settings"]["comparisons"] for level in c["comparison_levels"]
              if not level.get("is_null_level")}
    contact = levels[("contact", "same phone and first name")]
    bound = next(b for b in model["u_bounded"] if b["comparison"] == "contact")
    assert bound["pairs"] == 300  # every record carries a phone and a first name
    assert contact["u_probability"] == pytest.approx(3 / 300) == pytest.approx(bound["u_probability"])
    assert "m_probability" in contact
    for key, level in levels.items():  # no level with a trained m is left to Splink's default u
        assert "m_probability" not in level or "u_probability" in level, key
    # a level EM found no matching pair for keeps Splink's defaults: these records never swap names
    assert "u_probability" not in levels[("name_order", "first and family names swapped")]
    assert ("name_order", "first and family names swapped") not in {(b["comparison"], b["level"])
                                                                      for b in model["u_bounded"]}
    clusters = dict(con.execute("select mention_id, master_person_id from linkage.person_clusters").fetchall())
    assert sum(clusters[f"civil:{i}"] == clusters[f"naf:{i}"] for i in range(1, 451)) / 450 > 0.95
