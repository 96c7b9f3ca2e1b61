"""Is the newest published window recent enough? A verdict with the monitoring plugins' exit codes.

OK (0), WARNING (1), CRITICAL (2), UNKNOWN (3), as Nagios, Icinga, Sensu and Zabbix read them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from storepipe.ops import status
from storepipe.warehouse import markers
from storepipe.warehouse.markers import PUBLISH, marker_name
from storepipe.window import Window, utcnow, window_minutes

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}


@dataclass(frozen=True)
class Verdict:
    code: int
    newest: Window | None  # the newest published window
    lag: dt.timedelta | None  # from its end to now
    failed: int  # windows of the look-back that failed
    missing: int  # windows of the look-back overdue: ended more than max_lag ago, neither done nor failed
    windows: int  # windows in the look-back
    max_lag: dt.timedelta
    warn_lag: dt.timedelta | None
    stale: int = 0  # windows of the look-back built by another version of a model (not an alert: `storepipe plan`)

    @property
    def state(self) -> str:
        return NAMES[self.code]


def check(
    windows: Sequence[Window],
    *,
    max_lag: dt.timedelta,
    warn_lag: dt.timedelta | None = None,
    now: dt.datetime | None = None,
) -> Verdict:
    """CRITICAL when nothing is published or the newest published window ended more than `max_lag` ago;
    WARNING past `warn_lag`, or when a window of the look-back failed or is overdue; else OK."""
    now = now or utcnow()
    minutes = window_minutes()
    start = markers.newest(marker_name(PUBLISH))
    newest = Window(start, minutes) if start else None
    lag = now - newest.end if newest else None
    found = status.status(windows, now=now) if windows else None
    failed = found.counts["failed"] if found else 0
    # a window that closed a moment ago is not missing until the pipeline has had max_lag to publish it
    length = dt.timedelta(minutes=minutes)
    missing = sum(1 for start in found.missing if start + length + max_lag <= now) if found else 0
    if lag is None or lag > max_lag:
        code = CRITICAL
    elif (warn_lag is not None and lag > warn_lag) or failed or missing:
        code = WARNING
    else:
        code = OK
    stale = found.stale if found else 0
    return Verdict(code, newest, lag, failed, missing, found.windows if found else 0, max_lag, warn_lag, stale)
