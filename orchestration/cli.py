"""The `sijil` command line: generate samples, refresh and query the warehouse, link files.

Each sub-command imports what it needs when it runs, so `sijil --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from assets.errors import SijilError
from assets.settings import DEFAULT_PROFILE


def _cmd_generate(args: argparse.Namespace) -> int:
    import datetime as dt

    from assets.synthetic import generate

    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
    summary = generate(args.profile, args.persons, args.seed, Path(args.out), as_of=as_of, next_month=args.next_month)
    print(f"Generated {summary['persons']:,} persons in {summary['households']:,} households "
          f"({args.profile}) in {summary['seconds']:.1f} s")
    print(f"  inbox: {Path(args.out) / 'inbox'}\n  truth: {Path(args.out) / 'truth'}")
    if args.next_month:
        rows = sum(summary["next_month_files"].values())
        print(f"  next month: {Path(args.out) / 'next_month'} ({rows:,} rows in {len(summary['next_month_files'])} "
              "files; copy them into the inbox and refresh)")
    return 0


def _cmd_materialize(args: argparse.Namespace) -> int:
    from orchestration.refresh import print_summary, run_refresh

    result = run_refresh(select=args.select, retrain=args.retrain)
    print_summary(result)
    return 0 if result.success else 1


def _cmd_dedupe(args: argparse.Namespace) -> int:
    from assets.linkage.dedupe import dedupe_files

    roles = {}
    for item in args.map or []:
        role, sep, column = item.partition("=")
        if not sep or not role.strip() or not column.strip():
            raise SijilError(f"--map expects ROLE=COLUMN, got {item!r}")
        roles[role.strip()] = column.strip()
    summary = dedupe_files([Path(p) for p in args.inputs], args.id_column, roles, Path(args.out),
                           model=Path(args.model) if args.model else None, retrain=args.retrain)
    print(f"{summary['records']:,} records in {summary['clusters']:,} clusters, written to {args.out} "
          f"(model {'trained' if summary['model_retrained'] else 'reused'}; wall/CPU seconds: "
          + ", ".join(f"{k} {v:.1f}/{summary['cpu_seconds'][k]:.1f}" for k, v in summary["seconds"].items()) + ")")
    return 0


def _cmd_query(args: argparse.Namespace) -> int:
    from assets.publish.query import run_query
    from assets.settings import get_settings

    if bool(args.sql) == bool(args.file):
        raise SijilError("give either a SQL statement or --file FILE.sql")
    sql = Path(args.file).read_text(encoding="utf-8") if args.file else args.sql
    sys.stdout.write(run_query(sql, args.format, get_settings()))
    return 0


def _cmd_indicators(args: argparse.Namespace) -> int:
    from assets.monitoring.published import indicator_rows, load_published
    from assets.publish.query import format_frame, open_analytics
    from assets.settings import get_settings

    with open_analytics(get_settings()) as con:
        published = load_published(con)
    sys.stdout.write(format_frame(indicator_rows(published, args.pillar, args.period, args.lang), args.format))
    return 0


def _cmd_rollback(args: argparse.Namespace) -> int:
    from assets.publish.analytics import load_publish_config
    from assets.publish.pseudonyms import load_key
    from assets.publish.wap import refresh_lock, rollback
    from assets.settings import get_settings

    from assets.operations.audit_log import RunRecord, append_entry, code_version, current_operator, utc_now
    from assets.operations.config import load_operations_config

    settings = get_settings()
    started = utc_now()
    with refresh_lock(settings):
        restored = rollback(settings, load_key(settings), load_publish_config(), version=args.version)
    append_entry(load_operations_config().audit_file(settings), RunRecord(
        run_id=f"rollback-{restored}", kind="rollback", outcome="restored", started_at=started, finished_at=utc_now(),
        operator=current_operator(), code_version=code_version(), detail=f"restored warehouse version {restored}"))
    print(f"restored warehouse version {restored} as the published warehouse")
    return 0


def _cmd_purge(args: argparse.Namespace) -> int:
    from assets.operations.audit_log import RunRecord, append_entry, code_version, current_operator, utc_now
    from assets.operations.config import load_operations_config
    from assets.operations.retention import load_retention_config, purge
    from assets.publish.wap import refresh_lock
    from assets.settings import get_settings

    settings = get_settings()
    started = utc_now()
    with refresh_lock(settings):
        report = purge(settings, load_retention_config())
    counts = report.counts()
    append_entry(load_operations_config().audit_file(settings), RunRecord(
        run_id=f"purge-{report.purged_at:%Y%m%dT%H%M%S}", kind="purge", outcome="purged", started_at=started,
        finished_at=utc_now(), operator=current_operator(), code_version=code_version(),
        row_counts={**counts, **{f"quarantine.{t}": n for t, n in report.quarantine_rows.items()}},
        detail="landing files removed: " + (", ".join(report.landing_files) or "none")))
    print("purged past retention (config/retention.yaml): " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from orchestration.bench import run_bench, write_results

    out = Path(args.out) if args.out else Path("bench") / "results" / f"bench-{args.persons}.json"
    doc = run_bench(args.persons, seed=args.seed, profile=args.profile, keep=Path(args.keep) if args.keep else None,
                    baseline_timeout_s=args.baseline_timeout, next_month=args.next_month)
    table = write_results(doc, out)
    sys.stdout.write(table.read_text(encoding="utf-8"))
    print(f"\nwritten to {out} and {table}")
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    from assets.operations.audit_log import read_entries, unfinished_runs, verify_chain
    from assets.operations.config import load_operations_config
    from assets.settings import get_settings

    log = load_operations_config().audit_file(get_settings())
    entries = read_entries(log)
    if not args.verify:
        for e in entries[-args.last:]:
            files = len(json.loads(e["input_files"] or "{}"))
            when = e["finished_at"] or e["started_at"]
            print(f"{e['seq']:>5}  {when:%Y-%m-%d %H:%M:%S}  {e['kind']:<28} {e['outcome']:<14} "
                  f"{e['run_id']}  by {e['operator']}  code {e['code_version']}  {files} input files"
                  + (f"\n       {e['detail']}" if e["detail"] else ""))
    problems = verify_chain(log)
    if problems:
        raise SijilError(f"the audit log at {log} has been altered: " + "; ".join(problems))
    print(f"audit log {log}: {len(entries)} entries, chain intact")
    for run_id in unfinished_runs(entries):
        print(f"  started and never finished (killed, or still running): {run_id}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sijil", description="Sijil (سجل): a unified social registry platform")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("generate", help="write a synthetic population's agency exports and ground truth")
    p.add_argument("--profile", default=os.environ.get("SIJIL_PROFILE", DEFAULT_PROFILE))
    p.add_argument("--persons", type=int, default=20000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", required=True, help="directory; inbox/ and truth/ are written inside it")
    p.add_argument("--as-of", help="extraction date YYYY-MM-DD (default: end of last month)")
    p.add_argument("--next-month", action="store_true",
                   help="hold back what the agencies add in a month as next month's files, in next_month/")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("materialize", help="refresh: materialise every asset into the warehouse and print a summary")
    p.add_argument("--select", help="Dagster asset selection (default: every asset)")
    p.add_argument("--retrain", action="store_true",
                   help="train the linkage model again from the records (and relink everything), even when "
                        "its settings are unchanged")
    p.set_defaults(func=_cmd_materialize)

    p = sub.add_parser("dedupe", help="link and deduplicate person records in CSV, Excel or Parquet files")
    p.add_argument("inputs", nargs="+", help="one file deduplicates; several are linked and deduplicated")
    p.add_argument("--id-column", required=True, help="the column that identifies a record within its file")
    p.add_argument("--map", action="append", metavar="ROLE=COLUMN",
                   help="national_id, first_name, father_name, grandfather_name, family_name, full_name, birth_date, "
                        "sex, phone, address, locality, postcode, governorate")
    p.add_argument("--out", required=True, help="CLUSTERS.csv: input, record_id, cluster_id, match_probability")
    p.add_argument("--model", help="MODEL.json: score with this saved model when it fits the current settings; "
                                   "otherwise train on these records and save the model there")
    p.add_argument("--retrain", action="store_true", help="train even when --model holds a model that fits")
    p.set_defaults(func=_cmd_dedupe)

    p = sub.add_parser("query", help="read-only SQL on the analytics warehouse (no personal data)")
    p.add_argument("sql", nargs="?")
    p.add_argument("--file", help="a file holding the SQL")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.set_defaults(func=_cmd_query)

    p = sub.add_parser("indicators", help="the published indicators: the scorecard, or every cell of one period")
    p.add_argument("--pillar", help="a pillar of the profile's indicator catalogue")
    p.add_argument("--period", help="YYYY-MM, YYYY-Qn or YYYY (default: each indicator against its target)")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("--lang", choices=["en", "ar"], default="en",
                   help="ar: the indicators' names, trends, statuses and governorates in Arabic")
    p.set_defaults(func=_cmd_indicators)

    p = sub.add_parser("rollback", help="restore a kept earlier version as the published warehouse")
    p.add_argument("--version", help="version to restore (default: the newest kept)")
    p.set_defaults(func=_cmd_rollback)

    p = sub.add_parser("purge", help="remove what is past retention (config/retention.yaml) and log it")
    p.set_defaults(func=_cmd_purge)

    p = sub.add_parser("bench", help="generate N persons, refresh, and measure every stage beside two baselines")
    p.add_argument("--persons", type=int, required=True)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--profile", default=os.environ.get("SIJIL_PROFILE", DEFAULT_PROFILE))
    p.add_argument("--out", help="FILE.json (a markdown table FILE.md is written beside it); "
                                 "default bench/results/bench-N.json")
    p.add_argument("--keep", help="run in this directory and keep it (default: a temporary one, removed)")
    p.add_argument("--baseline-timeout", type=float, default=3600.0,
                   help="seconds a baseline may take before it is reported as not finished")
    p.add_argument("--next-month", action="store_true",
                   help="hold back the agencies' next month, then measure the refresh after it arrives")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("audit", help="list the latest runs of the audit log and verify its hash chain")
    p.add_argument("--last", type=int, default=20, help="how many of the newest entries to list")
    p.add_argument("--verify", action="store_true", help="only verify the chain (exit 2 if it is broken)")
    p.set_defaults(func=_cmd_audit)

    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SijilError as exc:
        print(f"sijil: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
