"""Volume checks: a load that leaves far fewer rows than the last one is a truncated or
withdrawn export.

For every raw entity, the rows the table holds after the latest load (the files it loaded and
the files it kept from earlier loads) are compared with the load before it (both from
audit.ingestion_ledger, which every build carries over from the published warehouse). A new
month's file adds to the rows held; an export replaced by a truncated one, or files taken out
of the inbox, take rows away. A drop beyond the profile's `volume_drop_max` (0.5: half the rows
gone) fails the check — blocking for a source whose contract is `severity: critical`, so
nothing downstream is built and nothing is published until someone looks.

A file the latest load read that holds a header and no row (an empty file is refused at ingestion) fails the
check too, with severity WARN whatever the source's: the rows held do not drop when a monthly
delta file comes empty, yet an export job that wrote nothing is worth a look — though a month
without any case can be real, so it never blocks.
"""

from __future__ import annotations

import dagster as dg

from assets.ingestion.load import files_without_rows
from assets.operations.retries import final_unless_transient, transient_retry_policy
from assets.profiles import EntityContract, Profile, SourceContract
from assets.warehouse import Warehouse

LOADS_SQL = """
select load_id, sum(rows_received) as rows_received, max(loaded_at) as loaded_at
from audit.ingestion_ledger
where source = ? and entity = ? and status in ('loaded', 'kept')
group by load_id
order by loaded_at desc
limit 2
"""


def empty_files(con, source: str, entity: str) -> list[str]:
    """The files the latest load of the entity read (not kept from before) that hold no rows."""
    return [file for _, file, status in files_without_rows(con, source, entity) if status == "loaded"]


def volume_change(con, source: str, entity: str) -> tuple[int, int | None]:
    """(rows held after the latest load, rows held after the load before, or None)."""
    loads = con.execute(LOADS_SQL, [source, entity]).fetchall()
    if not loads:
        return 0, None
    return int(loads[0][1]), (int(loads[1][1]) if len(loads) > 1 else None)


def _volume_check(contract: SourceContract, entity: EntityContract, max_drop: float) -> dg.AssetChecksDefinition:
    critical = contract.severity == "critical"

    @dg.asset_check(asset=dg.AssetKey(["raw", entity.table]), name="volume_within_expected", blocking=critical,
                    retry_policy=transient_retry_policy(),
                    description=f"Rows held after this load not more than {max_drop:.0%} below the load before "
                                "(a truncated or withdrawn export), and no new file without rows (a warning)")
    @final_unless_transient
    def volume_within_expected(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            current, previous = volume_change(con, contract.source, entity.name)
            empty = empty_files(con, contract.source, entity.name)
        floor = None if previous is None else previous * (1 - max_drop)
        dropped = floor is not None and current < floor
        problems = [f"{entity.table}: {current:,} rows held after this load against {previous:,} after the load "
                    f"before (more than {max_drop:.0%} fewer)"] if dropped else []
        problems += [f"{file}: delivered with no rows (an empty export?)" for file in empty]
        return dg.AssetCheckResult(
            passed=not problems,
            severity=dg.AssetCheckSeverity.ERROR if critical and (dropped or not problems) else dg.AssetCheckSeverity.WARN,
            description="; ".join(problems) or None,
            metadata={"rows_held": current, "previous_rows_held": previous if previous is not None else -1,
                      "max_drop": max_drop, "empty_files": len(empty)})

    return volume_within_expected


def build_volume_checks(profile: Profile) -> list[dg.AssetChecksDefinition]:
    max_drop = float(profile.volume_drop_max)
    return [_volume_check(contract, entity, max_drop) for contract in profile.sources for entity in contract.entities]
