"""Keyed pseudonyms (HMAC-SHA-256) for person, household and record keys.

The key comes from SIJIL_PSEUDONYM_KEY or the file named by SIJIL_PSEUDONYM_KEY_FILE, never
from the repository. In production mode there must be one; a sample run creates a local key
file under the data home and says so. A plain, unkeyed hash is never used: anyone could
recompute it from a national number.

The pseudonyms already computed are kept beside the key (`$SIJIL_HOME/secrets/pseudonyms.duckdb`,
readable by the service account alone: whoever reads it can turn a pseudonym back into a key, as
whoever holds the key can), so a refresh computes only the new keys' pseudonyms. The store
remembers a pseudonym of a fixed text: under another key it is emptied and filled again.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import duckdb

from assets.errors import SijilError
from assets.settings import Settings


# A pseudonym is the first 120 bits of the HMAC in hexadecimal, written in the letters a-p: no
# run of digits in a pseudonym can be mistaken for an identifier by the leak scan.
HEX_DIGITS, LETTERS, KEPT_HEX_DIGITS = "0123456789abcdef", "abcdefghijklmnop", 30
_BLOCK = 64  # SHA-256's block size in bytes: HMAC pads (or first hashes) the key to it


@dataclass(frozen=True)
class PseudonymKey:
    secret: bytes
    version: str  # printed in every pseudonym, so a rotated key is visible
    origin: str

    def pseudonym(self, value: str | None) -> str | None:
        """One value's pseudonym, by the same SQL the analytics warehouse is written with."""
        with duckdb.connect() as con:
            self.register(con)
            return con.execute("select sj_pseudonym(?::varchar)", [value]).fetchall()[0][0]

    def register(self, con) -> None:
        """Define `sj_pseudonym(value)` in a DuckDB connection: HMAC-SHA-256 (RFC 2104) written out
        over DuckDB's own sha256, vectorised and on every thread (Python's hmac called row by row
        took three times as long: 1,000,000 persons, 11.5 M values). 'unknown' and null stay as
        they are. The padded key stays in a temporary table of the connection, never in the SQL
        text, so no error message or query log can show it."""
        key = hashlib.sha256(self.secret).digest() if len(self.secret) > _BLOCK else self.secret
        key = key.ljust(_BLOCK, b"\0")
        con.execute("create or replace temp table sj_pseudonym_key as select ?::blob as inner_pad, "
                    "?::blob as outer_pad, ?::varchar as version",
                    [bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key), self.version])
        con.execute(f"""
            create or replace temp macro sj_pseudonym(value) as
            case when value is null or value = 'unknown' then value else
                (select version from sj_pseudonym_key) || '-' || translate(left(sha256(
                    (select outer_pad from sj_pseudonym_key)
                    || unhex(sha256((select inner_pad from sj_pseudonym_key) || encode(value)))), {KEPT_HEX_DIGITS}),
                    '{HEX_DIGITS}', '{LETTERS}')
            end""")


STORE_CHECK_TEXT = "sijil: the key these pseudonyms were computed with"
DUCKDB_MAGIC = b"DUCK"  # bytes 8 to 12 of every DuckDB database file


def pseudonym_store_path(settings: Settings) -> Path:
    return settings.home / "secrets" / "pseudonyms.duckdb"


def attach_pseudonym_store(con, path: Path) -> None:
    """Attach the store of computed pseudonyms as `ps` to a connection where `sj_pseudonym` is
    registered; empty it when its pseudonyms were computed under another key (or version). A file
    there that is not a DuckDB database (damaged, overwritten) is replaced by an empty store; a
    database that cannot be opened (held by another process) stops the publish and says so."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists():
        with path.open("rb") as handle:
            if handle.read(12)[8:12] != DUCKDB_MAGIC:
                path.unlink()
    try:
        con.execute(f"attach '{path.as_posix()}' as ps")
    except duckdb.Error as exc:
        raise SijilError(f"the pseudonym store {path} cannot be opened ({exc}); nothing was published") from exc
    path.chmod(0o600)
    check = con.execute("select sj_pseudonym(?::varchar)", [STORE_CHECK_TEXT]).fetchall()[0][0]
    con.execute("create table if not exists ps.store_key (check_pseudonym varchar)")
    if con.execute("select count(*) from ps.store_key where check_pseudonym = ?", [check]).fetchall()[0][0] == 0:
        for (name,) in con.execute("select table_name from duckdb_tables() where database_name = 'ps' "
                                   "and table_name <> 'store_key'").fetchall():
            con.execute(f'drop table ps."{name}"')
        con.execute("delete from ps.store_key")
        con.execute("insert into ps.store_key values (?)", [check])


def store_pseudonyms(con, column: str, relations: list[str]) -> str:
    """Add to the store the pseudonyms of `column`'s values in `relations` that it lacks; returns
    the store's table of that column (original, pseudonym). One table per column name keeps each
    join as small as the keys it can meet (a person key never meets a payment key)."""
    table = f'ps."{column}"'
    con.execute(f"create table if not exists {table} (original varchar, pseudonym varchar)")
    values = " union ".join(f'select cast("{column}" as varchar) as original from {r}' for r in relations)
    con.execute(f"insert into {table} select original, sj_pseudonym(original) from (select distinct original "
                f"from ({values}) where original is not null and original <> 'unknown' "
                f"and original not in (select original from {table}))")
    return table


def load_key(settings: Settings) -> PseudonymKey:
    version = os.environ.get("SIJIL_PSEUDONYM_KEY_VERSION", "k1")
    if os.environ.get("SIJIL_PSEUDONYM_KEY"):
        return PseudonymKey(os.environ["SIJIL_PSEUDONYM_KEY"].encode(), version, "environment")
    path = Path(os.environ.get("SIJIL_PSEUDONYM_KEY_FILE", settings.home / "secrets" / "pseudonym.key"))
    if path.exists():
        return PseudonymKey(path.read_bytes().strip(), version, str(path))
    if settings.is_production:
        raise SijilError("production mode needs a pseudonymisation key: set SIJIL_PSEUDONYM_KEY or "
                         "SIJIL_PSEUDONYM_KEY_FILE (never commit it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secrets.token_hex(32), encoding="ascii")
    path.chmod(0o600)
    print(f"sijil: sample mode: generated a local pseudonymisation key at {path}")
    return PseudonymKey(path.read_bytes().strip(), version, str(path))
