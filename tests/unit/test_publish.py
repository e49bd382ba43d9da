"""Publishing: keyed pseudonyms, the allow-listed analytics warehouse, atomic swap, rollback."""

from __future__ import annotations

import hashlib
import hmac
import time

import duckdb
import pytest

from assets.errors import SijilError
from assets.profiles import load_profile
from assets.publish.analytics import build_analytics, leak_patterns, scan_for_pii
from assets.publish.pseudonyms import HEX_DIGITS, KEPT_HEX_DIGITS, LETTERS, PseudonymKey, load_key
from assets.publish.query import run_query
from assets.publish.wap import analytics_path, begin_build, builds_dir, discard, publish, refresh_lock, rollback
from assets.settings import get_settings

PATTERNS = leak_patterns(load_profile("jordan").identifiers)
CONFIG = {"keep_versions": 2, "tables": {"core.dim_person": {
    "pseudonymise": ["person_key"], "columns": ["sex"], "derived": {"birth_year": "year(birth_date)"}}}}


def test_pseudonyms_are_keyed_stable_and_rotate():
    a, b = PseudonymKey(b"secret-1", "k1", "test"), PseudonymKey(b"secret-2", "k2", "test")
    value = "9876543210"
    assert a.pseudonym(value) == a.pseudonym(value)
    assert a.pseudonym(value) != b.pseudonym(value)
    assert a.pseudonym(value).startswith("k1-") and b.pseudonym(value).startswith("k2-")
    assert hashlib.sha256(value.encode()).hexdigest()[:30] not in a.pseudonym(value)
    assert not any(ch.isdigit() for ch in a.pseudonym(value)[3:])
    assert a.pseudonym("unknown") == "unknown"


def _python_hmac_pseudonym(key: PseudonymKey, value: str) -> str:
    """The pseudonym computed independently, by Python's hmac module."""
    digest = hmac.new(key.secret, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{key.version}-" + digest[:KEPT_HEX_DIGITS].translate(str.maketrans(HEX_DIGITS, LETTERS))


@pytest.mark.parametrize("secret", [b"", b"secret-1", b"k" * 64, b"a-key-longer-than-sha256s-block-" * 3])
def test_the_sql_pseudonym_is_rfc_2104_hmac(secret):
    """DuckDB's HMAC (`register`) against Python's hmac module, for every key length HMAC
    treats differently (empty, shorter than, equal to and longer than SHA-256's block)."""
    key = PseudonymKey(secret, "k3", "test")
    values = ["9876543210", "MP00042", "محمد عبد الله", ""]
    con = duckdb.connect()
    key.register(con)
    got = [con.execute("select sj_pseudonym(?::varchar)", [v]).fetchall()[0][0] for v in values + ["unknown", None]]
    assert got == [_python_hmac_pseudonym(key, v) for v in values] + ["unknown", None]
    assert [key.pseudonym(v) for v in values] == got[:len(values)]
    assert con.execute("select temporary from duckdb_tables() where table_name = 'sj_pseudonym_key'").fetchall() \
        == [(True,)]  # the key is never written to the file being built


def test_production_refuses_to_run_without_a_key(monkeypatch, tmp_path):
    monkeypatch.setenv("SIJIL_HOME", str(tmp_path))
    monkeypatch.setenv("SIJIL_MODE", "production")
    monkeypatch.delenv("SIJIL_PSEUDONYM_KEY", raising=False)
    with pytest.raises(SijilError, match="needs a pseudonymisation key"):
        load_key(get_settings())
    monkeypatch.setenv("SIJIL_MODE", "sample")
    key = load_key(get_settings())
    assert (tmp_path / "secrets" / "pseudonym.key").exists() and key.secret


def _warehouse(path, nid="9876543210"):
    con = duckdb.connect(str(path))
    con.execute("create schema core")
    con.execute(f"create table core.dim_person as select 'MP1' person_key, 'M' sex, date '1990-05-01' birth_date, "
                f"'{nid}' national_id, 'محمد' first_name")
    con.close()


def test_analytics_holds_only_allowed_columns_and_no_identifiers(tmp_path):
    _warehouse(tmp_path / "eng.duckdb")
    build_analytics(tmp_path / "eng.duckdb", tmp_path / "a.duckdb", PseudonymKey(b"k", "k1", "t"), CONFIG,
                    tmp_path / "pseudonyms.duckdb")
    con = duckdb.connect(str(tmp_path / "a.duckdb"), read_only=True)
    assert [r[0] for r in con.execute("describe core.dim_person").fetchall()] == ["person_key", "sex", "birth_year"]
    assert scan_for_pii(con, PATTERNS) == []
    eng = duckdb.connect(str(tmp_path / "eng.duckdb"), read_only=True)
    assert scan_for_pii(eng, PATTERNS) == ["core.dim_person.national_id"]


def test_stored_pseudonyms_are_the_keys_own_and_a_new_key_empties_the_store(tmp_path):
    """The store of computed pseudonyms gives what the key computes, gains only the new keys'
    pseudonyms, is private, and is emptied when the key changes (same version or not)."""
    eng, store = tmp_path / "eng.duckdb", tmp_path / "secrets" / "pseudonyms.duckdb"
    con = duckdb.connect(str(eng))
    con.execute("create schema core")
    con.execute("create table core.dim_person as select 'MP' || i as person_key, 'H' || (i // 3) as household_key "
                "from range(50) t(i) union all select 'unknown', null")
    con.execute("create table core.fct_payment as select 'PAY' || i as payment_key, 'MP' || (i % 60) as person_key "
                "from range(80) t(i)")
    con.close()
    config = {"tables": {"core.dim_person": {"pseudonymise": ["person_key", "household_key"]},
                         "core.fct_payment": {"pseudonymise": ["payment_key", "person_key"]}}}

    def published(key: PseudonymKey) -> dict[str, list]:
        build_analytics(eng, tmp_path / "a.duckdb", key, config, store)
        with duckdb.connect(str(tmp_path / "a.duckdb"), read_only=True) as a:
            return {t: sorted(a.execute(f"select * from core.{t}").fetchall(), key=str)
                    for t in ("dim_person", "fct_payment")}

    def expected(key: PseudonymKey) -> dict[str, list]:
        with duckdb.connect() as c:
            key.register(c)
            c.execute(f"attach '{eng}' as eng (read_only)")
            return {"dim_person": sorted(c.execute("select sj_pseudonym(person_key), sj_pseudonym(household_key) "
                                                   "from eng.core.dim_person").fetchall(), key=str),
                    "fct_payment": sorted(c.execute("select sj_pseudonym(payment_key), sj_pseudonym(person_key) "
                                                    "from eng.core.fct_payment").fetchall(), key=str)}

    def stored() -> dict[str, int]:
        with duckdb.connect(str(store), read_only=True) as c:
            return {t: c.execute(f'select count(*) from "{t}"').fetchall()[0][0] for t in
                    ("person_key", "household_key", "payment_key")}

    key = PseudonymKey(b"secret-1", "k1", "t")
    assert published(key) == expected(key)
    assert ("unknown", None) in published(key)["dim_person"]  # as sj_pseudonym leaves them
    assert stored() == {"person_key": 60, "household_key": 17, "payment_key": 80}  # each value once; no 'unknown'
    assert store.stat().st_mode & 0o777 == 0o600
    with duckdb.connect(str(eng)) as con:
        con.execute("insert into core.fct_payment values ('PAY900', 'MP900')")
    assert published(key) == expected(key)
    assert stored() == {"person_key": 61, "household_key": 17, "payment_key": 81}
    for other in (PseudonymKey(b"secret-2", "k1", "t"), PseudonymKey(b"secret-2", "k2", "t")):
        assert published(other) == expected(other) != expected(key)
        assert stored() == {"person_key": 61, "household_key": 17, "payment_key": 81}
    store.write_bytes(b"not a database")  # a damaged store is a cache: replaced
    assert published(key) == expected(key)
    held = duckdb.connect(str(store))  # another process holding it would be refused the same way
    try:
        with pytest.raises(SijilError, match="pseudonym store .* cannot be opened"):
            build_analytics(eng, tmp_path / "a.duckdb", key, config, store)
    finally:
        held.close()
    assert published(key) == expected(key)  # the store was left as it was
    assert stored() == {"person_key": 61, "household_key": 17, "payment_key": 81}


def test_publish_swaps_atomically_keeps_versions_and_rolls_back(tmp_path, monkeypatch):
    monkeypatch.setenv("SIJIL_HOME", str(tmp_path))
    monkeypatch.delenv("SIJIL_WAREHOUSE", raising=False)
    settings = get_settings()
    key = PseudonymKey(b"k", "k1", "t")
    for run, sex in enumerate(["M", "F", "M"]):
        build = begin_build(settings, f"run{run}")
        con = duckdb.connect(str(build))
        con.execute("create schema if not exists core")
        con.execute(f"create or replace table core.dim_person as select 'MP1' person_key, '{sex}' sex, date '1990-05-01' birth_date")
        con.close()
        if run == 1:
            reader = duckdb.connect(str(settings.published_warehouse), read_only=True)  # a reader during publish
        publish(build, settings, key, CONFIG)
        if run == 1:
            assert reader.execute("select sex from core.dim_person").fetchall() == [("M",)]  # still the old view
            reader.close()
    assert run_query("select sex from core.dim_person", "csv", settings) == "sex\nM\n"
    kept = sorted((settings.published_warehouse.parent / "versions").glob("*.duckdb"))
    assert len(kept) == 2
    # kept as the file that was published, never the file published now
    assert settings.published_warehouse.stat().st_ino not in {k.stat().st_ino for k in kept}
    restored = rollback(settings, key, CONFIG)
    assert restored == kept[-1].stem[len("sijil-"):]
    assert run_query("select sex from core.dim_person", "csv", settings) == "sex\nF\n"
    assert analytics_path(settings).exists()


def test_publish_refuses_a_leak(tmp_path, monkeypatch):
    monkeypatch.setenv("SIJIL_HOME", str(tmp_path))
    settings = get_settings()
    build = begin_build(settings, "leaky")
    _warehouse(build)
    leaky = {"tables": {"core.dim_person": {"columns": ["national_id"]}}}
    with pytest.raises(SijilError, match="not published"):
        publish(build, settings, PseudonymKey(b"k", "k1", "t"), leaky)
    assert not settings.published_warehouse.exists()


def test_query_refuses_writes(tmp_path, monkeypatch):
    monkeypatch.setenv("SIJIL_HOME", str(tmp_path))
    settings = get_settings()
    build = begin_build(settings, "one")
    _warehouse(build)
    publish(build, settings, PseudonymKey(b"k", "k1", "t"), CONFIG)
    with pytest.raises(SijilError, match="read-only"):
        run_query("delete from core.dim_person", "table", settings)
    assert '"sex": "M"' in run_query("select sex from core.dim_person", "json", settings)


def test_leak_patterns_find_identifiers_in_text_but_not_pseudonyms():
    con = duckdb.connect()
    con.execute("create table t as select * from (values ('call +962791234567 now'), ('id 9876543210'), "
                "('k1-abcdefabcdefabcdefabcdefabcdef'), ('0791234567'), ('2025-01-01')) v(x)")
    con.execute("create table clean as select * from (values ('k1-abcdefabcdef'), ('M'), ('AM')) v(x)")
    assert scan_for_pii(con, PATTERNS) == ["main.t.x"]
    # each identifier alone is found: a national number, a phone number local or international,
    # a refugee case number, an identity card number, inside text or alone
    for i, leak in enumerate(["x 9876543210 y", "0791234567", "+962791234567", "962791234567", "case 123-45C67890",
                              "card ABC1234567"]):
        con.execute(f"create table leak_{i} as select ? as x", [leak])
    assert sorted(scan_for_pii(con, PATTERNS)) == sorted(["main.t.x", *(f"main.leak_{i}.x" for i in range(6))])


def test_a_pseudonym_is_never_an_unkeyed_hash():
    """Guards against 'simplifying' to plain hashing: anyone could recompute that from a national number."""
    value = "9876543210"
    unkeyed = "k1-" + hashlib.sha256(value.encode()).hexdigest()[:30].translate(str.maketrans(HEX_DIGITS, LETTERS))
    assert PseudonymKey(b"secret-1", "k1", "test").pseudonym(value) != unkeyed
    assert PseudonymKey(b"", "k1", "test").pseudonym(value) != unkeyed  # even an empty key is an HMAC


def test_the_same_key_gives_the_same_pseudonyms_across_runs_and_a_rotated_key_others(tmp_path, monkeypatch):
    monkeypatch.setenv("SIJIL_HOME", str(tmp_path))
    monkeypatch.delenv("SIJIL_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("SIJIL_PSEUDONYM_KEY_VERSION", raising=False)
    first_run, second_run = load_key(get_settings()), load_key(get_settings())  # the generated key file, reread
    assert first_run.pseudonym("MP00042") == second_run.pseudonym("MP00042")
    monkeypatch.setenv("SIJIL_PSEUDONYM_KEY", "a-rotated-secret")
    monkeypatch.setenv("SIJIL_PSEUDONYM_KEY_VERSION", "k2")
    rotated = load_key(get_settings())
    assert rotated.origin == "environment" and rotated.pseudonym("MP00042").startswith("k2-")
    assert rotated.pseudonym("MP00042")[3:] != first_run.pseudonym("MP00042")[3:]


def test_readers_during_publishes_are_never_locked_out_and_see_whole_versions(tmp_path, monkeypatch):
    """A reader opening the published warehouse again and again while versions are published."""
    import threading

    monkeypatch.setenv("SIJIL_HOME", str(tmp_path))
    settings = get_settings()
    key = PseudonymKey(b"k", "k1", "t")
    config = {"keep_versions": 2, "tables": {"core.dim_person": {"columns": ["sex", "version"]}}}

    def publish_version(version: int) -> None:
        build = begin_build(settings, f"v{version}")
        with duckdb.connect(str(build)) as con:
            con.execute("create schema if not exists core")
            con.execute(f"create or replace table core.dim_person as select 'M' sex, {version} version from range(5000)")
        publish(build, settings, key, config)

    publish_version(0)
    seen, errors, stop = [], [], threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                with duckdb.connect(str(settings.published_warehouse), read_only=True) as con:
                    low, high, rows = con.execute("select min(version), max(version), count(*) from core.dim_person").fetchall()[0]
                if (low, rows) != (high, 5000):
                    errors.append(f"a mixed or partial version: {low}..{high}, {rows} rows")
                seen.append(low)
            except Exception as exc:  # a lock or a missing file would land here
                errors.append(repr(exc))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for version in range(1, 6):
            publish_version(version)
            deadline = time.monotonic() + 20
            while version not in seen and time.monotonic() < deadline and not errors:
                time.sleep(0.01)
    finally:
        stop.set()
        reader.join()
    assert errors == []
    assert set(seen) >= {1, 2, 3, 4, 5}


def test_the_spill_directory_beside_a_build_is_removed_with_it(tmp_path, monkeypatch):
    """DuckDB spills into `<build>.tmp/` (ingestion stages there too): a failed build is discarded
    with it, and a directory left by a killed refresh does not stop the next one."""
    monkeypatch.setenv("SIJIL_HOME", str(tmp_path))
    settings = get_settings()
    build = begin_build(settings, "20251231T000000")
    duckdb.connect(str(build)).close()
    spill = build.with_name(build.name + ".tmp")
    (spill / "sijil-ingest-x").mkdir(parents=True)
    (spill / "sijil-ingest-x" / "records.csv").write_text("1\n", encoding="utf-8")
    discard(build)
    assert not build.exists() and not spill.exists()
    (spill / "left").mkdir(parents=True)  # as a killed refresh leaves it
    with refresh_lock(settings):
        assert not list(builds_dir(settings).iterdir())
