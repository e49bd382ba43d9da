"""The trust report: for every file of this refresh, rows received, loaded, quarantined and
lost, and control totals — the reconciliation a ministry publishes with its numbers."""

import dagster as dg

from assets.operations.retries import final_unless_transient, transient_retry_policy
from assets.profiles import Profile
from assets.warehouse import Warehouse

TRUST_SQL = """
create or replace table audit.trust_report as
with latest as (
    select *, row_number() over (partition by source, entity, file order by loaded_at desc) as newest
    from audit.ingestion_ledger
    where status = 'loaded'
)
select source, entity, file, sha256, encoding, loaded_at,
       rows_received, rows_loaded, rows_quarantined, rows_lost,
       control_column, control_total_received, control_total_loaded, control_total_quarantined,
       rows_lost = 0
         and (control_column is null
              or abs(control_total_received - control_total_loaded - control_total_quarantined) < 0.005) as is_reconciled
from latest where newest = 1
order by source, entity, file
"""


def build_trust_assets(profile: Profile) -> list:
    upstream = [dg.AssetKey(["raw", entity.table]) for contract in profile.sources for entity in contract.entities]

    @dg.asset(key=["audit", "trust_report"], deps=upstream, group_name="audit", kinds={"duckdb"}, pool="duckdb_writer",
              retry_policy=transient_retry_policy(),
              description="Per file of the latest load: rows received, loaded, quarantined and lost (always 0), and "
                          "control totals (Σ amounts in the file = loaded + quarantined).\n\n"
                          "تقرير الثقة: لكل ملف الصفوف المستلمة والمحمّلة والمعزولة والمفقودة ومجاميع المبالغ.")
    @final_unless_transient
    def trust_report(warehouse: Warehouse) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            con.execute(TRUST_SQL)
            frame = con.execute("select source, entity, file, rows_received, rows_loaded, rows_quarantined, rows_lost, "
                                "is_reconciled from audit.trust_report").df()
        table = ["| file | received | loaded | quarantined | lost | reconciled |", "|---|---:|---:|---:|---:|---|"]
        table += [f"| {r.file} | {r.rows_received:,} | {r.rows_loaded:,} | {r.rows_quarantined:,} | {r.rows_lost} | "
                  f"{'yes' if r.is_reconciled else 'NO'} |" for r in frame.itertuples()]
        return dg.MaterializeResult(metadata={
            "dagster/row_count": len(frame), "files": len(frame),
            "rows_received": int(frame.rows_received.sum()), "rows_loaded": int(frame.rows_loaded.sum()),
            "rows_quarantined": int(frame.rows_quarantined.sum()), "rows_lost": int(frame.rows_lost.sum()),
            "trust_report": dg.MetadataValue.md("\n".join(table))})

    @dg.asset_check(asset=trust_report, blocking=True, retry_policy=transient_retry_policy(),
                    description="Nothing lost and every control total reconciled; a failure stops the publish")
    @final_unless_transient
    def every_file_reconciles(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            bad = con.execute("select file from audit.trust_report where not is_reconciled").fetchall()
        return dg.AssetCheckResult(passed=not bad, severity=dg.AssetCheckSeverity.ERROR,
                                   metadata={"files_not_reconciled": [b[0] for b in bad]})

    return [trust_report, every_file_reconciles]
