"""Issue 5: identifiers may declare a check-digit algorithm in the profile; Python and the
DuckDB macro staging uses agree, and a profile declaring one passes it to dbt."""

from __future__ import annotations

import random
import shutil

import duckdb
import pytest
import yaml

from assets.errors import SijilError
from assets.profiles import load_profile
from assets.settings import profiles_dir
from assets.text.check_digits import CHECK_MACRO_SQL, check_digit_ok, identifier_check, luhn_ok, mod11_ok
from orchestration.dbt import dbt_vars


def test_known_numbers():
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")  # the textbook Luhn example
    assert luhn_ok("9876543217") and not luhn_ok("9876543218")
    # 1·6 + 2·5 + 3·4 + 4·3 + 5·2 = 50; 50 mod 11 = 6; 11 − 6 = 5
    assert mod11_ok("123455") and not mod11_ok("123456")
    assert not luhn_ok("12a4") and not mod11_ok("")
    assert check_digit_ok(None, "luhn") is None and check_digit_ok("1234", "none") is True
    with pytest.raises(SijilError, match="unknown check-digit algorithm"):
        check_digit_ok("1234", "verhoeff")


def test_python_and_duckdb_agree():
    con = duckdb.connect()
    con.execute(CHECK_MACRO_SQL)
    rng = random.Random(5)
    values = ["".join(rng.choice("0123456789") for _ in range(rng.randint(2, 14))) for _ in range(2000)]
    values += ["79927398713", "123455", "x1", "1"]
    for algorithm in ("none", "luhn", "mod11"):
        got = dict(con.execute("select v, sj_id_check_ok(v, ?) from unnest(?::varchar[]) t(v)",
                               [algorithm, values]).fetchall())
        assert all(got[v] == check_digit_ok(v, algorithm) for v in values), algorithm
    assert con.execute("select sj_id_check_ok(null, 'luhn')").fetchall() == [(None,)]


def test_jordan_declares_no_check_digit():
    profile = load_profile("jordan")
    assert identifier_check(profile.identifiers, "national_id") == "none"
    assert dbt_vars(profile)["national_id_check"] == "none"


def test_a_profile_declaring_a_check_passes_it_to_staging_and_an_unknown_one_fails(tmp_path):
    def profile_checking(check: str, root):
        shutil.copytree(profiles_dir() / "jordan", root / "luhnland")
        path = root / "luhnland" / "profile.yaml"
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        raw["code"] = "luhnland"
        raw["identifiers"]["national_id"]["check"] = check
        path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        return load_profile("luhnland", root)

    assert dbt_vars(profile_checking("luhn", tmp_path / "a"))["national_id_check"] == "luhn"
    with pytest.raises(SijilError, match="check 'crc32' is not one of"):
        dbt_vars(profile_checking("crc32", tmp_path / "b"))
