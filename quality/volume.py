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

import dagster as dg

from assets.ingestion.load import files_without_rows
from assets.operations.retries import final_unless_transient, transient_retry_policy
from assets.profiles import SEVERITIES, EntityContract, Profile, SourceContract
from assets.warehouse import Warehouse
from quality.checks import entities_of_severity, is_selected

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


CHECK_NAME = "volume_within_expected"


def evaluate_volume(con, contract: SourceContract, entity: EntityContract, max_drop: float) -> dg.AssetCheckResult:
    """The volume check of one raw entity, on the warehouse `con`."""
    critical = contract.severity == "critical"
    current, previous = volume_change(con, contract.source, entity.name)
    empty = empty_files(con, contract.source, entity.name)
    floor = None if previous is None else previous * (1 - max_drop)
    dropped = floor is not None and current < floor
    problems = [f"{entity.table}: {current:,} rows held after this load against {previous:,} after the load "
                f"before (more than {max_drop:.0%} fewer)"] if dropped else []
    problems += [f"{file}: delivered with no rows (an empty export?)" for file in empty]
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(["raw", entity.table]), check_name=CHECK_NAME,
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR if critical and (dropped or not problems) else dg.AssetCheckSeverity.WARN,
        description="; ".join(problems) or None,
        metadata={"rows_held": current, "previous_rows_held": previous if previous is not None else -1,
                  "max_drop": max_drop, "empty_files": len(empty)})


def _volume_checks(profile: Profile, severity: str, max_drop: float) -> dg.AssetChecksDefinition:
    """The volume checks of every raw entity of one severity, in one step: 18 steps of a few
    milliseconds of SQL each cost more in Dagster's step overhead than the checks themselves."""
    targets = entities_of_severity(profile, severity)
    specs = [dg.AssetCheckSpec(CHECK_NAME, asset=dg.AssetKey(["raw", entity.table]),
                               blocking=contract.severity == "critical",
                               description=f"Rows held after this load not more than {max_drop:.0%} below the load "
                                           "before (a truncated or withdrawn export), and no new file without rows "
                                           "(a warning)")
             for contract, entity in targets]

    @dg.multi_asset_check(specs=specs, name=f"quality_volume_{severity}", can_subset=True,
                          retry_policy=transient_retry_policy())
    @final_unless_transient
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse):
        with warehouse.connect(read_only=True) as con:
            for contract, entity in targets:
                if is_selected(context, ("raw", entity.table), CHECK_NAME):
                    yield evaluate_volume(con, contract, entity, max_drop)

    return _check


def build_volume_checks(profile: Profile) -> list[dg.AssetChecksDefinition]:
    """One step of volume checks per severity (a critical source's checks block, a warning's do not)."""
    max_drop = float(profile.volume_drop_max)
    return [_volume_checks(profile, severity, max_drop) for severity in sorted(SEVERITIES)
            if entities_of_severity(profile, severity)]
