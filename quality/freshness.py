"""Timeliness: has each source entity delivered a new file within its contract's cadence?

A delivery is a file loaded for the first time (identical files load once, so re-sending the
same export is not a new delivery). The newest delivery comes from audit.ingestion_ledger.
"""

from __future__ import annotations

import datetime as dt

from quality.validate import Outcome

NEWEST_DELIVERY_SQL = """
select max(loaded_at) from audit.ingestion_ledger
where source = ? and entity = ? and status = 'loaded'
"""


def days_since_delivery(con, source: str, entity: str, now: dt.datetime) -> float | None:
    """Days from the newest delivery to `now`; None when nothing was ever delivered."""
    exists = con.execute("select count(*) from information_schema.tables where table_schema = 'audit' "
                         "and table_name = 'ingestion_ledger'").fetchall()[0][0]
    if not exists:
        return None
    newest = con.execute(NEWEST_DELIVERY_SQL, [source, entity]).fetchall()[0][0]
    if newest is None:
        return None
    return (now - newest).total_seconds() / 86400


def freshness_outcome(days: float | None, cadence_days: int) -> Outcome:
    """Fresh when the newest delivery is at most `cadence_days` old; stale (or never) otherwise."""
    return Outcome(expectation="DeliveredWithinCadence", rule=f"a new file at least every {cadence_days} days",
                   column=None, dimension="timeliness", success=days is not None and days <= cadence_days,
                   element_count=1, unexpected_count=0 if days is not None and days <= cadence_days else 1,
                   observed_value=None if days is None else round(days, 2))
