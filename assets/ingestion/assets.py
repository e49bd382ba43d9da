"""The Dagster ingestion assets: one per source contract, built from the profile."""


import uuid

import dagster as dg

from assets.ingestion.load import SourceReport, ingest_source
from assets.ingestion.reference import build_reference_asset
from assets.operations.retries import final_unless_transient, transient_retry_policy
from assets.profiles import Profile, SourceContract
from assets.settings import get_settings
from assets.warehouse import Warehouse


def _entity_metadata(report: SourceReport, entity: str) -> dict:
    """Row counts, reconciliation per file and quarantine reasons of one entity (no values)."""
    files = [f for f in report.files if f.entity == entity]
    rows = ["| file | status | received | loaded | quarantined | lost | control total: file = loaded + quarantined |",
            "|---|---|---:|---:|---:|---:|---|"]
    for f in files:
        control = (f"{f.control_received:,.2f} = {f.control_loaded:,.2f} + {f.control_quarantined:,.2f}"
                   if f.control_column else "")
        rows.append(f"| {f.file} | {f.status} | {f.rows_received:,} | {f.rows_loaded:,} | {f.rows_quarantined:,} | "
                    f"{f.rows_lost} | {control} |")
    t = report.entity_totals().get(entity, {"received": 0, "loaded": 0, "quarantined": 0, "files": 0})
    meta = {
        "dagster/row_count": dg.MetadataValue.int(t["loaded"]),
        "rows_received": dg.MetadataValue.int(t["received"]),
        "rows_loaded": dg.MetadataValue.int(t["loaded"]),
        "rows_quarantined": dg.MetadataValue.int(t["quarantined"]),
        "rows_lost": dg.MetadataValue.int(sum(f.rows_lost for f in files)),
        "files_loaded": dg.MetadataValue.int(sum(f.status == "loaded" for f in files)),
        "files_kept": dg.MetadataValue.int(sum(f.status == "kept" for f in files)),
        "rows_new": dg.MetadataValue.int(sum(f.rows_loaded for f in files if f.status == "loaded")),
        "reconciliation": dg.MetadataValue.md("\n".join(rows)),
        "quarantine_reasons": dg.MetadataValue.json(report.quarantine_reasons.get(entity, {})),
        "encodings": dg.MetadataValue.json({f.file: f.encoding for f in files if f.encoding}),
        "file_sha256": dg.MetadataValue.json({f.file: f.sha256 for f in files if f.status in ("loaded", "kept")}),
    }
    refused = [f"{f.file}: {f.detail}" for f in report.files if f.status == "refused"]
    if refused:
        meta["files_refused"] = dg.MetadataValue.json(refused)
    if report.unmatched:
        meta["files_not_in_contract"] = dg.MetadataValue.json(report.unmatched)
    return meta


def _source_asset(profile: Profile, contract: SourceContract) -> dg.AssetsDefinition:
    """One ingestion step per source, materialising one asset per entity table."""
    description = (f"{contract.agency_en} — {contract.description_en}\n\n{contract.agency_ar} — "
                   f"{contract.description_ar}")
    specs = [
        dg.AssetSpec(
            ["raw", entity.table], group_name="raw", kinds={"python", "duckdb"},
            description=f"{description}\n\nEntity `{entity.name}` ({entity.grain}) from files `{entity.file_pattern}`; "
                        f"rejected rows go to quarantine.{entity.table} with a reason.",
            metadata={"source_contract": f"config/profiles/{profile.code}/sources/{contract.source}.yaml",
                      "severity": contract.severity, "pillar": contract.pillar},
            tags={"source": contract.source},
        )
        for entity in contract.entities
    ]

    @dg.multi_asset(specs=specs, name=f"ingest_{contract.source}", pool="duckdb_writer",
                    retry_policy=transient_retry_policy())
    @final_unless_transient
    def _ingest(context: dg.AssetExecutionContext, warehouse: Warehouse):
        settings = get_settings()
        with warehouse.connect() as con:
            report = ingest_source(con, contract, settings.inbox, list(profile.date_formats),
                                   load_id=str(uuid.uuid4()), run_id=context.run.run_id)
        for f in report.files:
            if f.status not in ("loaded", "kept"):
                context.log.warning(f"{f.file}: {f.status} ({f.detail})")
        for entity in contract.entities:
            yield dg.MaterializeResult(asset_key=["raw", entity.table], metadata=_entity_metadata(report, entity.name))

    return _ingest


def build_ingestion_assets(profile: Profile) -> list[dg.AssetsDefinition]:
    """One asset per source of the profile, plus the profile's reference tables."""
    return [build_reference_asset(profile), *(_source_asset(profile, c) for c in profile.sources)]
