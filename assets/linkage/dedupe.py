"""`sijil dedupe`: link and deduplicate person records in any files, with the registry's model.

Each file's columns are mapped to roles; the records are read, brought to the shape of
int_person_mentions with the same text macros, and linked by the same code as the pipeline
(`link_mentions`), all in DuckDB (no Python loop over records). The model is trained on these
records (on a bounded random sample of them, config/linkage.yaml's training.max_records), or
read from `--model` when that file holds a model of the current settings; a model trained
here is saved there for the next files.
"""

from __future__ import annotations

import codecs
import csv
import tempfile
from pathlib import Path

import duckdb

from assets.errors import SijilError
from assets.ingestion.decode import detect_encoding
from assets.linkage.model import load_config
from assets.linkage.resources import PhaseClock
from assets.linkage.run import link_mentions
from assets.text.duckdb_sql import install_text_macros

ROLES = ("national_id", "first_name", "father_name", "grandfather_name", "family_name", "full_name", "birth_date",
         "sex", "phone", "address", "locality", "postcode", "governorate")
# Formats tried in order; day-first forms before month-first, as registries in the region write them.
# Month names are English ('09-Apr-1956', '9 April 1956', 'Apr 9, 1956'), in any letter case.
DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d", "%d.%m.%Y", "%m/%d/%Y", "%d/%m/%y",
                "%d-%b-%Y", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y")
# A time of day after the date, as a spreadsheet's date cell or a timestamp column reads as text
# ('1956-04-09 00:00:00', '1956-04-09T00:00:00.000Z'): left out before the formats are tried.
TIME_OF_DAY = r"[ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?[ ]*(Z|[+-][0-9]{2}:?[0-9]{2})?$"
SNIFF_BYTES = 64 * 1024


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _utf8_copy(path: Path, encoding: str, scratch: Path) -> Path:
    """`path` itself when DuckDB can read it (UTF-8, with or without a byte-order mark), else a
    UTF-8 copy in `scratch`, transcoded in blocks."""
    if encoding in ("utf-8", "utf-8-sig"):
        return path
    target = scratch / f"{path.stem}.utf8{path.suffix}"
    with open(path, "rb") as raw, open(target, "w", encoding="utf-8", newline="") as out:
        reader = codecs.getreader(encoding)(raw)
        while block := reader.read(4 * 1024 * 1024):
            out.write(block)
    return target


def _read_csv(con, path: Path, table: str, scratch: Path) -> None:
    """A CSV file as a table of text columns. Delimiter and header are read from the file's
    start; DuckDB then reads it with them given explicitly (its own sniffing can misread a
    file), and a row it cannot read is an error naming its line."""
    source = _utf8_copy(path, detect_encoding(path), scratch)
    with open(source, encoding="utf-8-sig", newline="") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head.strip():
        raise SijilError(f"{path.name}: the file is empty")
    try:
        delimiter = csv.Sniffer().sniff(head.split("\n", 1)[0], delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    header = next(csv.reader([head.split("\n", 1)[0].rstrip("\r")], delimiter=delimiter))
    if len(set(header)) != len(header) or any(not h.strip() for h in header):
        raise SijilError(f"{path.name}: the header row has empty or repeated column names")
    columns = "{" + ", ".join(f"{_literal(h)}: 'VARCHAR'" for h in header) + "}"
    con.execute(f"""create or replace table {table} as select * from read_csv({_literal(str(source))},
                    delim = {_literal(delimiter)}, quote = '"', escape = '"', header = true, columns = {columns},
                    auto_detect = false, store_rejects = true, rejects_table = 'csv_rejects', rejects_scan = 'csv_scans',
                    rejects_limit = 0)""")
    rejects = con.execute("select line, error_message from csv_rejects order by line limit 3").fetchall()
    if rejects:
        where = "; ".join(f"line {line}: {message.splitlines()[0]}" for line, message in rejects)
        raise SijilError(f"{path.name}: rows that do not fit the header ({where})")


def _read_file(con, path: Path, table: str, scratch: Path) -> None:
    """A CSV (any supported encoding), Excel or Parquet file as a table of text columns."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls"):
        import pandas as pd

        frame = pd.read_excel(path, dtype=str)
        con.register("excel_frame", frame)
        con.execute(f"create or replace table {table} as select columns(*)::varchar from excel_frame")
        con.unregister("excel_frame")
    elif suffix == ".parquet":
        con.execute(f"create or replace table {table} as select columns(*)::varchar from read_parquet({_literal(str(path))})")
    else:
        _read_csv(con, path, table, scratch)


def column_named(name: str, columns: list[str]) -> str | None:
    """The file's column that `name` means: the one spelled exactly so, else the only one that
    differs from it in surrounding spaces or letter case (a header written 'rec_id, given_name,
    surname' names its columns ' given_name' and ' surname')."""
    if name in columns:
        return name
    alike = [column for column in columns if column.strip().casefold() == name.strip().casefold()]
    return alike[0] if len(alike) == 1 else None


def load_records(con, inputs: list[Path], id_column: str, roles: dict[str, str], scratch: Path) -> int:
    """Table `records` (input, record_id and one text column per role) from every input file;
    the id column must be filled and unique within each file."""
    stems = [p.stem for p in inputs]
    if len(set(stems)) != len(stems):
        raise SijilError("two inputs share a file name; rename one so the output can tell them apart")
    con.execute("create or replace table records (input varchar, record_id varchar, "
                + ", ".join(f"{role} varchar" for role in ROLES) + ")")
    for path in inputs:
        if not path.exists():
            raise SijilError(f"{path}: no such file")
        _read_file(con, path, "input_file", scratch)
        present = [r[0] for r in con.execute("select column_name from information_schema.columns "
                                             "where table_name = 'input_file' order by ordinal_position").fetchall()]
        found = {name: column_named(name, present) for name in [id_column, *roles.values()]}
        missing = [name for name, column in found.items() if column is None]
        if missing:
            raise SijilError(f"{path.name}: no column(s) {', '.join(missing)} (columns: {', '.join(present)})")
        id_sql = _quote(found[id_column])
        empty, repeated = con.execute(f"select count(*) filter (where {id_sql} is null), "
                                      f"count({id_sql}) - count(distinct {id_sql}) from input_file").fetchall()[0]
        if empty or repeated:
            raise SijilError(f"{path.name}: the id column {id_column!r} must be filled and unique in each file "
                             f"({empty:,} empty, {repeated:,} repeated)")
        values = ", ".join(_quote(found[roles[role]]) if role in roles else "null" for role in ROLES)
        con.execute(f"insert into records select {_literal(path.stem)}, {id_sql}, {values} from input_file")
        con.execute("drop table input_file")
    return con.execute("select count(*) from records").fetchall()[0][0]


def _date_sql(column: str) -> str:
    text = f"regexp_replace(trim(sj_digits({column})), '{TIME_OF_DAY}', '')"
    tries = ", ".join(f"try_strptime({text}, '{fmt}')" for fmt in DATE_FORMATS)
    return f"try_cast(coalesce({tries}) as date)"


def mentions_sql(has_parts: bool) -> str:
    """SQL turning the `records` table (role columns) into the int_person_mentions shape.

    Names and dates repeat from record to record: each distinct name, full name, normalised
    name and date is normalised, transliterated, skeletonised or parsed once, and the records
    are joined to the results (a million records hold a few tens of thousands of names).

    A national number written as one digit repeated ('0000000', '9999999999') is a placeholder,
    not a person's: `sj_clean_id` leaves it out, as staging does, and the record is compared as one
    without a number, rather than putting everyone who carries it in one block and cluster (a number
    on more records than one person may have, max_records_per_number, is left out by the linkage's
    features, model.FEATURES_SQL)."""
    parts = ("first_name", "father_name", "grandfather_name", "family_name")
    norm = {part: f"coalesce(n{i}.norm, f.p{i})" if has_parts else f"f.p{i}" for i, part in enumerate(parts, start=1)}
    part_joins = "\n".join(f"left join part_norm n{i} on n{i}.v = r.{part}" for i, part in enumerate(parts, start=1)) \
        if has_parts else ""
    forms = ",\n        ".join(f"t{i}.translit as {part}_translit, t{i}.skeleton as {part}_skeleton, t{i}.loose as {part}_loose"
                                for i, part in enumerate(parts, start=1))
    form_joins = "\n    ".join(f"left join forms t{i} on t{i}.v = d.{part}_norm" for i, part in enumerate(parts, start=1))
    return f"""
    create or replace table intermediate.int_person_mentions as
    with part_norm as materialized (
        select v, sj_norm_name(v) as norm
        from (select distinct unnest([first_name, father_name, grandfather_name, family_name]) as v from records)
        where v is not null
    ),
    full_parts as materialized (
        select v, sj_name_part(v, 1) as p1, sj_name_part(v, 2) as p2, sj_name_part(v, 3) as p3, sj_name_part(v, 4) as p4
        from (select distinct full_name as v from records where full_name is not null)
    ),
    dates as materialized (
        select v, {_date_sql('v')} as parsed from (select distinct birth_date as v from records where birth_date is not null)
    ),
    named as materialized (
        select r.* replace (case when dt.parsed between date '1880-01-01' and current_date then dt.parsed end as birth_date),
               {norm['first_name']} as first_name_norm, {norm['father_name']} as father_name_norm,
               {norm['grandfather_name']} as grandfather_name_norm, {norm['family_name']} as family_name_norm
        from records r
        {part_joins}
        left join full_parts f on f.v = r.full_name
        left join dates dt on dt.v = r.birth_date
    ),
    forms as materialized (
        select *, sj_loose_skeleton(skeleton) as loose  -- from the skeleton computed once, beside it
        from (
            select v, sj_translit(v) as translit, sj_skeleton(v) as skeleton
            from (select distinct unnest([first_name_norm, father_name_norm, grandfather_name_norm, family_name_norm]) as v
                  from named)
            where v is not null
        )
    )
    select
        d.input || ':' || d.record_id as mention_id, d.input as source, 'file' as entity, d.record_id as record_key,
        null::varchar as household_ref,
        sj_clean_id(d.national_id, '^[0-9A-Z]{{5,20}}$') as national_id,
        null::varchar as other_id_type, null::varchar as other_id,
        coalesce(d.full_name, concat_ws(' ', d.first_name, d.father_name, d.grandfather_name, d.family_name)) as full_name,
        d.first_name_norm, d.father_name_norm, d.grandfather_name_norm, d.family_name_norm,
        {forms},
        case when regexp_matches(coalesce(d.first_name_norm, '') || coalesce(d.family_name_norm, ''), '[ء-ي]')
             then 'ar' else 'latin' end as name_script,
        d.birth_date,
        (month(d.birth_date) = 1 and day(d.birth_date) = 1) as birth_date_is_jan1,
        case when lower(trim(d.sex)) in ('m', 'male', 'ذكر', '1') then 'M'
             when lower(trim(d.sex)) in ('f', 'female', 'أنثى', 'انثى', '2') then 'F' end as sex,
        nullif(regexp_replace(sj_digits(d.phone), '[^0-9]', '', 'g'), '') as phone,
        sj_place_key(d.governorate) as governorate_code,
        sj_place(d.address) as address_translit, sj_place(d.locality) as locality_translit,
        sj_place_key(d.locality) as locality_key, sj_postcode(d.postcode) as postcode
    from named d
    {form_joins}
    """


def dedupe_files(inputs: list[Path], id_column: str, roles: dict[str, str], out: Path,
                 model: Path | None = None, retrain: bool = False) -> dict:
    """Cluster the records of `inputs`; write input, record_id, cluster_id, match_probability.

    `model`: a saved model (JSON) to score with when it fits the current settings; otherwise
    one is trained on these records and saved there (`retrain` trains even when it fits)."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise SijilError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    if not ({"first_name", "full_name"} & set(roles)):
        raise SijilError("map at least first_name or full_name: names are what links people")
    clock = PhaseClock()
    config = load_config()
    config["training"].update(config.get("dedupe_training") or {})
    # where no two records share a number (none mapped, say), the prior comes from records that
    # agree on every name part and the birth date the file has
    agree = ["first_s", *[column for role, column in (("father_name", "father_s"), ("family_name", "family_s"),
                                                      ("birth_date", "birth_date")) if role in roles]]
    config["training"]["deterministic_rules_without_numbers"] = [" and ".join(f"l.{c} = r.{c}" for c in agree)]
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "dedupe.duckdb"))
        limits = config.get("duckdb") or {}
        if limits.get("memory_limit"):
            con.execute("set memory_limit = ?", [str(limits["memory_limit"])])
        con.execute(f"set temp_directory = {_literal(str(Path(tmp) / 'spill'))}")
        install_text_macros(con)
        con.execute("create schema intermediate; create schema linkage")
        records = load_records(con, inputs, id_column, roles, Path(tmp))
        clock.lap("read")
        con.execute(mentions_sql(has_parts=bool({"first_name", "family_name"} & set(roles))))
        clock.lap("normalise")
        result = link_mentions(con, config, model or Path(tmp) / "model.json", retrain=retrain)
        clock.lap("link")
        out.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"""
            copy (select m.source as input, m.record_key as record_id, c.master_person_id as cluster_id, c.match_probability
                  from intermediate.int_person_mentions m join linkage.person_clusters c using (mention_id)
                  order by 1, 2)
            to {_literal(str(out))} (header, delimiter ',')""")
        clusters = con.execute("select count(distinct master_person_id) from linkage.person_clusters").fetchall()[0][0]
        con.close()
    clock.lap("write")
    return {"records": records, "clusters": int(clusters), "pairs_scored": result.pairs_scored,
            "model_retrained": result.retrained, "seconds": clock.seconds, "cpu_seconds": clock.cpu_seconds,
            "link_seconds": result.seconds, "link_cpu_seconds": result.cpu_seconds}
