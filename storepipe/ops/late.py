"""Late order objects: ones filed under a window after its extract read it, found by listing whole days.

A late object re-opens its window: the window is rebuilt (its extract lands the new objects as one
more immutable segment, and its load, staging and marts are replaced), so its rows reach the marts
of their own window. Objects under windows older than `[orders_bucket] late_lookback`, but on a
listed day, are recorded as too late and reported; `storepipe backfill --force` over their window
brings them in.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from storepipe import config
from storepipe.rows import ORDERS
from storepipe.sources import orders_bucket
from storepipe.warehouse import segments
from storepipe.window import Window, closed_until, window_minutes

log = logging.getLogger(__name__)

REOPENED, TOO_LATE = "reopened", "too_late"


@dataclass
class Late:
    """Late objects by window: those to re-open (within the look-back) and those found too late."""

    reopen: dict[Window, list[orders_bucket.Object]] = field(default_factory=dict)
    too_late: dict[Window, list[orders_bucket.Object]] = field(default_factory=dict)


def find(now: dt.datetime | None = None, lookback: dt.timedelta | None = None) -> Late:
    """List the days of the look-back and compare with what each extracted window read."""
    until = closed_until(now)
    since = until - (lookback or config.orders_bucket().late_lookback)
    # the whole first day is listed anyway: its windows before `since` are reported, not re-opened
    first_day = dt.datetime.combine(since.date(), dt.time.min)
    # what each extracted window read (the ledger is written with the extract's marker); windows
    # extracted before segments were recorded have none, so there is nothing to compare them with
    read = segments.recorded_objects(ORDERS.name, first_day, until)
    found = Late()
    minutes = window_minutes()
    for minute, listed in orders_bucket.list_days(sorted({start.date() for start in read})):
        window = _window_of(minute, minutes)
        if window.end > until or window.start not in read or (listed.key, listed.etag) in read[window.start]:
            continue
        bucket = found.reopen if window.start >= since else found.too_late
        bucket.setdefault(window, []).append(listed)
    return found


def record(found: Late) -> list[Window]:
    """Keep what was found (for `storepipe status`), warn about the too-late ones; the windows to rebuild."""
    for action, by_window in ((REOPENED, found.reopen), (TOO_LATE, found.too_late)):
        for window, objects in by_window.items():
            segments.record_late(ORDERS.name, window.start, [(o.key, o.etag) for o in objects], action)
    for window, objects in sorted(found.too_late.items()):
        log.warning(
            "orders: %d object(s) appeared under window %s after it was extracted, past the look-back"
            " ([orders_bucket] late_lookback), e.g. %s; run `storepipe backfill --start %s --end %s --force`",
            len(objects),
            window.label,
            objects[0].key,
            window.label,
            f"{window.end:%Y-%m-%dT%H:%M}",
        )
    return sorted(found.reopen)


def _window_of(minute: dt.datetime, minutes: int) -> Window:
    epoch = dt.datetime(1970, 1, 1)
    offset = int((minute - epoch).total_seconds()) % (minutes * 60)
    return Window(minute - dt.timedelta(seconds=offset), minutes)


def describe(windows: Sequence[Window], found: Late) -> list[str]:
    """One line per re-opened window, for the backfill's output."""
    return [
        f"  {w.label}  re-opened: {len(found.reopen[w])} late object(s), e.g. {found.reopen[w][0].key}" for w in windows
    ]
