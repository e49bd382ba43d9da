"""The Dagster ingestion assets: one per source contract, built from the profile."""


import uuid

import dagster as dg

from assets.ingestion.load import SourceReport, ingest_source
from assets.ingestion.reference import build_reference_asset
from assets.profiles import Profile, SourceContract
from assets.settings import get_settings
from assets.warehouse import Warehouse


def _metadata(report: SourceReport) -> dict:
    totals = report.entity_totals()
    rows = ["| file | entity | status | received | loaded | quarantined | lost | control total (file = loaded + quarantined) |",
            "|---|---|---|---:|---:|---:|---:|---|"]
    for f in report.files:
        control = (f"{f.control_received:,.2f} = {f.control_loaded:,.2f} + {f.control_quarantined:,.2f}"
                   if f.control_column else "")
        rows.append(f"| {f.file} | {f.entity} | {f.status} | {f.rows_received:,} | {f.rows_loaded:,} | "
                    f"{f.rows_quarantined:,} | {f.rows_lost} | {control} |")
    loaded = sum(t["loaded"] for t in totals.values())
    meta = {
        "dagster/row_count": dg.MetadataValue.int(loaded),
        "rows_received": dg.MetadataValue.int(sum(t["received"] for t in totals.values())),
        "rows_loaded": dg.MetadataValue.int(loaded),
        "rows_quarantined": dg.MetadataValue.int(sum(t["quarantined"] for t in totals.values())),
        "rows_lost": dg.MetadataValue.int(sum(f.rows_lost for f in report.files)),
        "reconciliation": dg.MetadataValue.md("\n".join(rows)),
        "quarantine_reasons": dg.MetadataValue.json(report.quarantine_reasons),
        "encodings": dg.MetadataValue.json({f.file: f.encoding for f in report.files if f.encoding}),
    }
    for entity, t in totals.items():
        meta[f"{entity}_rows_loaded"] = dg.MetadataValue.int(t["loaded"])
    if report.unmatched:
        meta["files_not_in_contract"] = dg.MetadataValue.json(report.unmatched)
    refused = [f"{f.file}: {f.detail}" for f in report.files if f.status == "refused"]
    if refused:
        meta["files_refused"] = dg.MetadataValue.json(refused)
    return meta


def _source_asset(profile: Profile, contract: SourceContract) -> dg.AssetsDefinition:
    tables = ", ".join(f"raw.{e.table}" for e in contract.entities)

    @dg.asset(
        key=dg.AssetKey(["raw", contract.source]),
        group_name="raw",
        kinds={"python", "duckdb"},
        pool="duckdb_writer",
        description=(f"{contract.agency_en} — {contract.description_en}\n\n{contract.agency_ar} — "
                     f"{contract.description_ar}\n\nLoads {tables}; rejected rows go to quarantine with a reason."),
        metadata={"source_contract": f"config/profiles/{profile.code}/sources/{contract.source}.yaml",
                  "severity": contract.severity, "pillar": contract.pillar},
        tags={"pillar": contract.pillar or "none"},
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        settings = get_settings()
        with warehouse.connect() as con:
            report = ingest_source(con, contract, settings.inbox, list(profile.date_formats),
                                   load_id=str(uuid.uuid4()), run_id=context.run.run_id)
        for f in report.files:
            if f.status != "loaded":
                context.log.warning(f"{f.file}: {f.status} ({f.detail})")
        return dg.MaterializeResult(metadata=_metadata(report))

    return _ingest


def build_ingestion_assets(profile: Profile) -> list[dg.AssetsDefinition]:
    """One asset per source of the profile, plus the profile's reference tables."""
    return [build_reference_asset(profile), *(_source_asset(profile, c) for c in profile.sources)]
