"""Land one window of a source in the lake: valid rows and rejected rows as two CSV objects."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from storepipe import quarantine
from storepipe.lake import Lake, window_key
from storepipe.quarantine import Rejected
from storepipe.window import Window

log = logging.getLogger(__name__)

PROGRESS_EVERY = 100_000


@dataclass
class Landed:
    key: str
    rejects_key: str
    rows: int
    rejected: int
    checksum: str


def keys(source: str, window: Window) -> tuple[str, str]:
    return window_key(source, window, f"{source}.csv"), window_key(source, window, "rejected.csv")


def land(
    window: Window,
    source: str,
    rows: Iterable[tuple | Rejected],
    columns: list[str],
    lake: Lake,
    max_bad_share: float,
) -> Landed:
    """Stream `rows` into the lake; rejects first, so the data object is the commit point.

    If the data object exists already (a crash after landing, before the marker), it is kept,
    never rewritten: a window's lake copy is immutable once written.
    """
    data_key, rejects_key = keys(source, window)
    if lake.exists(data_key) and lake.exists(rejects_key):
        log.info("%s for %s already in the lake at %s; keeping it", source, window, lake.locate(data_key))
        return Landed(data_key, rejects_key, _count(lake, data_key), _count(lake, rejects_key), lake.checksum(data_key))
    good = bad = 0
    with lake.write(rejects_key) as (rejects_out, _), lake.write(data_key) as (data_out, written):
        data = csv.writer(io.TextIOWrapper(data_out, encoding="utf-8", newline="", write_through=True))
        rejects = csv.writer(io.TextIOWrapper(rejects_out, encoding="utf-8", newline="", write_through=True))
        data.writerow(columns)
        rejects.writerow(quarantine.COLUMNS)
        for row in rows:
            if isinstance(row, Rejected):
                bad += 1
                rejects.writerow(row.as_row(source))
            else:
                good += 1
                data.writerow(row)
                if good % PROGRESS_EVERY == 0:
                    log.info("%s %s: %d rows landed", source, window, good)
        quarantine.check_share(source, window.label, good, bad, max_bad_share)
    log.info("%s %s: %d rows landed, %d rejected, at %s", source, window, good, bad, lake.locate(data_key))
    return Landed(data_key, rejects_key, good, bad, written.checksum)


def _count(lake: Lake, key: str) -> int:
    """Rows in a landed CSV (records, not lines: a quoted field may hold a newline)."""
    with lake.open(key) as f:
        reader = csv.reader(io.TextIOWrapper(f, encoding="utf-8", newline=""))
        next(reader, None)
        return sum(1 for _ in reader)
