"""Keep the warehouse's partitions bounded: roll closed days into one partition, drop days past retention.

A table partitioned by window (store.orders) gets one partition per window as
windows run (`windows`). The cron path calls `keep_bounded` on every backfill: every day more than
`[warehouse] roll_up_after_days` behind the newest closed window becomes one partition for the day,
and with `[warehouse] retention_days` set, days older than that are dropped from store.* (the lake
keeps them). A table then holds at most `bound()` partitions,
whatever the pipeline's age, so a statement that cannot prune (`count(*)` of a parent, a catalogue
sync, pg_dump) stays well inside PostgreSQL's default lock table.

Each day is one transaction, so the locks one step takes are a day's partitions, never the table's.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import psycopg2.errors

from storepipe import config, sqlfiles
from storepipe.errors import ConfigError
from storepipe.warehouse import db
from storepipe.window import closed_until, window_minutes

log = logging.getLogger(__name__)

DAY = dt.timedelta(days=1)
# A roll-up or a drop waits this long for its locks (an analyst's long query on the table, a swap
# into the same day), then gives up until the next cron run: waiting longer would hold every new
# reader and load of the table behind it in the lock queue.
UPKEEP_LOCK_TIMEOUT = "10s"


@dataclass
class Upkeep:
    """What one `keep_bounded` did: days rolled up and dropped per table, rows deleted, partitions left."""

    rolled_up: dict[str, list[dt.date]] = field(default_factory=dict)
    dropped: dict[str, list[dt.date]] = field(default_factory=dict)
    deleted_rows: dict[str, int] = field(default_factory=dict)
    partitions: dict[str, int] = field(default_factory=dict)
    postponed: list[tuple[str, dt.date]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        done = (self.rolled_up, self.dropped, self.deleted_rows)
        return any(any(d.values()) for d in done) or bool(self.postponed)


@dataclass(frozen=True)
class Horizon:
    """Days before `roll_up_before` are rolled up; days before `drop_before` (if any) are dropped."""

    roll_up_before: dt.date
    drop_before: dt.date | None


def horizon(now: dt.datetime | None = None) -> Horizon:
    """The days to roll up and to drop, counted back from the newest closed window."""
    settings = config.warehouse()
    for name in ("roll_up_after_days", "retention_days"):
        if getattr(settings, name) < 0:
            raise ConfigError(
                f"[warehouse] {name} {getattr(settings, name)} is negative", "luigi.cfg", "give 0 or more"
            )
    until = closed_until(now)
    drop_before = None
    if settings.retention_days:
        lookback = config.orders_bucket().late_lookback
        if settings.retention_days * DAY <= lookback:
            raise ConfigError(
                f"[warehouse] retention_days {settings.retention_days} would drop windows that late files still"
                f" re-open ([orders_bucket] late_lookback {lookback})",
                "luigi.cfg",
                "keep more days than the late look-back, or 0 to keep everything",
            )
        drop_before = (until - settings.retention_days * DAY).date()
    return Horizon((until - settings.roll_up_after_days * DAY).date(), drop_before)


def bound(retained_days: int | None = None) -> int:
    """Most partitions one table holds: the days not rolled up yet, one per window, plus one per kept day.

    `retained_days` defaults to `[warehouse] retention_days`; with retention off, pass the days since
    the first window (the count then grows by one a day).
    """
    settings = config.warehouse()
    days = settings.retention_days if retained_days is None else retained_days
    per_day = 24 * 60 // window_minutes()
    return per_day * (settings.roll_up_after_days + 1) + days + 1


def keep_bounded(now: dt.datetime | None = None) -> Upkeep:
    """Roll up closed days and drop days past retention in every table partitioned by window, a day at a time.

    With nothing to do it costs one catalog query on the process's lookup connection, so a no-op
    cron run stays a handful of queries (invariant 8).
    """
    plan = horizon(now)
    upkeep = Upkeep()
    cur = db.shared().cursor()
    cur.execute(
        sqlfiles.load("pipeline/partitions/days_to_keep"),
        {"drop_before": plan.drop_before, "roll_up_before": plan.roll_up_before},
    )
    for parent, day, step in cur.fetchall():
        done = upkeep.dropped if step == "drop_day" else upkeep.rolled_up
        try:
            if _one_day(parent, day, step):
                done.setdefault(parent, []).append(day)
        except psycopg2.errors.LockNotAvailable:
            log.warning("partitions: %s of %s %s waits for the next run (its locks are busy)", step, parent, day)
            upkeep.postponed.append((parent, day))
    if plan.drop_before:
        cutoff = dt.datetime.combine(plan.drop_before, dt.time())
        with db.transaction() as cur:
            cur.execute(sqlfiles.load("pipeline/partitions/store_tables"))
            plain = [table for (table,) in cur.fetchall()]
        for table in plain:
            with db.transaction() as cur:
                target = sqlfiles.qualified("store", table)
                cur.execute(sqlfiles.compose("pipeline/partitions/delete_before", target=target), {"cutoff": cutoff})
                upkeep.deleted_rows[f"store.{table}"] = cur.rowcount
    if upkeep.changed:
        upkeep.partitions = counts()
        log.info(
            "partitions: rolled up %s, dropped %s, deleted %s", upkeep.rolled_up, upkeep.dropped, upkeep.deleted_rows
        )
    return upkeep


def _one_day(parent: str, day: dt.date, step: str) -> int:
    with db.transaction() as cur:
        cur.execute(sqlfiles.load("pipeline/partitions/lock_timeout"), {"timeout": UPKEEP_LOCK_TIMEOUT})
        cur.execute(sqlfiles.load(f"pipeline/partitions/{step}"), {"partitioned": parent, "day": day})
        return cur.fetchone()[0]


def _count(parent: str) -> int:
    with db.transaction() as cur:
        cur.execute(sqlfiles.load("pipeline/partitions/count_partitions"), {"partitioned": parent})
        return cur.fetchone()[0]


def counts() -> dict[str, int]:
    """Partitions per table partitioned by window (for status and tests)."""
    with db.transaction() as cur:
        cur.execute(sqlfiles.load("pipeline/partitions/partitioned_tables"))
        parents = [f"{schema}.{table}" for schema, table in cur.fetchall()]
    return {parent: _count(parent) for parent in parents}
