"""storepipe's own metrics, as plain samples: freshness, rows, quarantine, failed and re-opened windows, slot lag.

luigid's Prometheus collector counts tasks; these say what the warehouse holds, which no scheduler
knows. `storepipe metrics` renders them in Prometheus' text format, for node_exporter's textfile
collector (a cron line writes the file; a scrape then costs no database query).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from storepipe import sqlfiles
from storepipe.ops import plan as version_plan
from storepipe.ops import status
from storepipe.rows import SOURCES
from storepipe.warehouse import db, markers
from storepipe.warehouse.markers import LOAD, PUBLISH, marker_name
from storepipe.window import Window, utcnow, window_minutes

log = logging.getLogger(__name__)

GAUGE, COUNTER = "gauge", "counter"
_EPOCH = dt.datetime(1970, 1, 1)


@dataclass(frozen=True)
class Sample:
    """One metric value: name, help text, kind, value and labels."""

    name: str
    help: str
    kind: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)


def collect(windows: Sequence[Window], *, now: dt.datetime | None = None) -> list[Sample]:
    """Every metric, now; `windows` is the look-back in which failed and missing windows are counted."""
    now = now or utcnow()
    samples = [Sample("storepipe_metrics_timestamp_seconds", "When these metrics were collected.", GAUGE, _unix(now))]
    samples += _freshness(now)
    samples += _rows()
    samples += _windows(windows, now)
    samples += _slot_lag()
    stale = windows_stale(windows)
    if stale is not None:
        help_text = "Windows of the look-back built by another version of their SQL."
        samples.append(Sample("storepipe_windows_stale", help_text, GAUGE, stale))
    return samples


def windows_stale(windows: Sequence[Window]) -> int | None:
    """The look-back's windows built with another version of their SQL (what `storepipe plan --apply` would
    rebuild; forward-only changes and windows of unknown version not counted)."""
    if not windows:
        return None
    return len(version_plan.judged(windows).stale)


def _freshness(now: dt.datetime) -> list[Sample]:
    newest = markers.newest(marker_name(PUBLISH))
    if newest is None:  # nothing published yet: no value is better than a made-up one
        return []
    end = newest + dt.timedelta(minutes=window_minutes())
    return [
        Sample(
            "storepipe_newest_published_window_start_seconds",
            "Start of the newest window published to analytics (Unix time).",
            GAUGE,
            _unix(newest),
        ),
        Sample(
            "storepipe_newest_published_window_lag_seconds",
            "Seconds from the end of the newest published window to now.",
            GAUGE,
            (now - end).total_seconds(),
        ),
    ]


def _rows() -> list[Sample]:
    names = {marker_name(LOAD, source): source for source in SOURCES}
    with db.shared().cursor() as cur:
        cur.execute(sqlfiles.load("pipeline/metrics/rows_loaded"), {"task_names": list(names)})
        loaded = {names[task_name]: rows for task_name, rows in cur.fetchall()}
        cur.execute(sqlfiles.load("pipeline/metrics/quarantined"))
        rejected = dict(cur.fetchall())
        cur.execute(sqlfiles.load("pipeline/metrics/reopened"))
        reopened = dict(cur.fetchall())
    samples = []
    for source in SOURCES:
        labels = {"source": source}
        samples += [
            Sample(
                "storepipe_rows_loaded",
                "Rows loaded into store.*, per source, over every window the warehouse holds (from the load markers).",
                GAUGE,
                loaded.get(source, 0),
                labels,
            ),
            Sample(
                "storepipe_rows_quarantined",
                "Rows set aside in storepipe.quarantine, per source, over every window (flagged rows not counted).",
                GAUGE,
                rejected.get(source, 0),
                labels,
            ),
            Sample(
                "storepipe_windows_reopened",
                "Windows re-opened because objects came after their extract, per source, ever.",
                COUNTER,
                reopened.get(source, 0),
                labels,
            ),
        ]
    return samples


def _windows(windows: Sequence[Window], now: dt.datetime) -> list[Sample]:
    found = status.status(windows, now=now) if windows else None
    counted = found.counts if found else {}
    return [
        Sample("storepipe_lookback_windows", "Windows in the look-back.", GAUGE, found.windows if found else 0),
        Sample(
            "storepipe_windows_failed",
            "Windows of the look-back whose latest failure no marker has resolved.",
            GAUGE,
            counted.get("failed", 0),
        ),
        Sample(
            "storepipe_windows_missing",
            "Closed windows of the look-back that are not complete and have not failed.",
            GAUGE,
            counted.get("missing", 0),
        ),
    ]


def _slot_lag() -> list[Sample]:
    # the capture's state as `storepipe status` shows it; a source that is down or a lost slot is no
    # value (the metric's absence says it), never a failure hiding the warehouse's metrics
    state = status.capture_state()
    if state.lag_bytes is None:
        if state.mode == "log":
            log.warning("no slot lag: slot %s is %s", state.slot, state.state)
        return []
    return [
        Sample(
            "storepipe_capture_slot_lag_bytes",
            "Bytes of WAL the customer change-capture slot holds on the source.",
            GAUGE,
            state.lag_bytes,
            {"slot": state.slot},
        )
    ]


def _unix(moment: dt.datetime) -> float:
    return (moment - _EPOCH).total_seconds()
