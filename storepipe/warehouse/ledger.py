"""The capture ledger: which change-log segments landed in the lake, per window, recorded before the slot moves."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from storepipe import sqlfiles
from storepipe.window import Window

# kinds of capture run; READ: read to the end; RESET: a new history starts here (`storepipe cdc init --reset`)
SNAPSHOT, CHANGES, READ, RESET = "snapshot", "changes", "read", "reset"


@dataclass(frozen=True)
class Segment:
    """One immutable lake object of a window's customer changes, and its flags object."""

    key: str
    rejects_key: str
    window_start: dt.datetime
    rows: int
    checksum: str
    first_lsn: str
    last_lsn: str


def record(
    cur,
    slot: str,
    kind: str,
    from_lsn: str,
    to_lsn: str | None,
    segments: Sequence[Segment],
    reopens: Sequence[str],
) -> list[dt.datetime]:
    """Record a run and its segments in the caller's transaction; drop the markers `reopens` of the
    windows they add to, so those tasks run again with the new segment.

    The markers go one name at a time, in the order given (the order tasks hold their inputs in): a
    delete waits for a task that holds its marker as an input, and each delete after it (a statement
    of its own, so a snapshot of its own) sees the marker that task then wrote, and drops it too.

    Returns the windows that got a segment. Recording a run again (a repair) changes nothing.
    """
    cur.execute(sqlfiles.load("pipeline/ledger/run_exists"), {"slot": slot, "from_lsn": from_lsn, "kind": kind})
    if cur.fetchone() is not None:
        return []
    for segment in segments:
        cur.execute(
            sqlfiles.load("pipeline/ledger/record_segment"),
            {
                "segment_key": segment.key,
                "slot": slot,
                "window_start": segment.window_start,
                "row_count": segment.rows,
                "checksum": segment.checksum,
                "rejects_key": segment.rejects_key,
                "first_lsn": segment.first_lsn,
                "last_lsn": segment.last_lsn,
                "run_from_lsn": from_lsn,
            },
        )
    cur.execute(
        sqlfiles.load("pipeline/ledger/record_run"),
        {
            "slot": slot,
            "from_lsn": from_lsn,
            "to_lsn": to_lsn,
            "kind": kind,
            "segments": len(segments),
            "read_until": None,
        },
    )
    starts = sorted({segment.window_start for segment in segments})
    if starts:
        for task_name in reopens:
            cur.execute(sqlfiles.load("pipeline/ledger/reopen_windows"), {"starts": starts, "task_name": task_name})
    return starts


def mark_read(cur, slot: str, from_lsn: str, read_until: dt.datetime) -> None:
    """The slot's log is landed up to `read_until`: a read from `from_lsn` found nothing more before it."""
    cur.execute(
        sqlfiles.load("pipeline/ledger/mark_read"),
        {"slot": slot, "from_lsn": from_lsn, "kind": READ, "read_until": read_until},
    )


def recorded_run(cur, slot: str, kind: str, from_lsn: str) -> tuple[bool, str | None]:
    """(whether the run from this position is recorded, the position it read up to)."""
    cur.execute(sqlfiles.load("pipeline/ledger/run_exists"), {"slot": slot, "from_lsn": from_lsn, "kind": kind})
    row = cur.fetchone()
    return (row is not None, row[0] if row else None)


def snapshot_done(cur, slot: str) -> bool:
    cur.execute(sqlfiles.load("pipeline/ledger/snapshot_done"), {"slot": slot})
    return bool(cur.fetchone()[0])


def read_until(cur, slot: str) -> dt.datetime | None:
    """The time up to which the slot's log is landed and recorded."""
    cur.execute(sqlfiles.load("pipeline/ledger/read_until"), {"slot": slot})
    return cur.fetchone()[0]


def window_segments(cur, slot: str, window: Window) -> list[tuple[str, str, int, str]]:
    """(segment key, rejects key, rows, checksum) of each segment of the window, in log order."""
    cur.execute(sqlfiles.load("pipeline/ledger/window_segments"), {"slot": slot, **window.sql_params()})
    return [tuple(row) for row in cur.fetchall()]


def segment_set_checksum(segments: Sequence[tuple[str, str, int, str]]) -> str:
    """One checksum for a window's set of segments: a marker holding it names exactly what was extracted."""
    digest = hashlib.sha256()
    for key, _, _, checksum in segments:
        digest.update(f"{key}\t{checksum}\n".encode())
    return digest.hexdigest()
