"""The lake segments of a window and the source objects each holds: what was read, so late objects show."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import NamedTuple

from storepipe import sqlfiles
from storepipe.warehouse import db
from storepipe.window import Window


class Segment(NamedTuple):
    segment: str
    data_key: str
    rejects_key: str
    row_count: int
    checksum: str


def name_of(objects: Sequence[tuple[str, str]]) -> str:
    """A segment's name from the (key, etag) pairs it holds: a crashed extract that runs again with the
    same objects finds its own files, and one with other objects can never take them for its own."""
    digest = hashlib.sha256("\n".join(f"{key}\t{etag}" for key, etag in sorted(objects)).encode())
    return digest.hexdigest()[:16]


def of(cur, source: str, window: Window) -> list[Segment]:
    cur.execute(sqlfiles.load("pipeline/segments/window_segments"), {"source": source, **window.sql_params()})
    return [Segment(*row) for row in cur.fetchall()]


def record(cur, source: str, window: Window, segment: Segment, objects: Sequence) -> None:
    """Record a landed segment and the objects (key, etag, size) it holds, in the caller's transaction."""
    params = {"source": source, "window_start": window.start}
    cur.execute(sqlfiles.load("pipeline/segments/record_segment"), {**params, **segment._asdict()})
    for key, etag, size in objects:
        cur.execute(
            sqlfiles.load("pipeline/segments/record_object"),
            {**params, "object_key": key, "etag": etag, "object_size": size, "segment": segment.segment},
        )


def recorded_objects(
    source: str, range_start: dt.datetime, range_end: dt.datetime, cur=None
) -> dict[dt.datetime, set[tuple[str, str]]]:
    """Per window starting in [range_start, range_end) that has segments, the (key, etag) pairs already read."""
    found: dict[dt.datetime, set[tuple[str, str]]] = {}
    cur = cur or db.shared().cursor()
    params = {"source": source, "range_start": range_start, "range_end": range_end}
    cur.execute(sqlfiles.load("pipeline/segments/recorded_objects"), params)
    for start, key, etag in cur.fetchall():
        found.setdefault(start, set()).add((key, etag))
    return found


def record_late(source: str, window_start: dt.datetime, objects: Sequence[tuple[str, str]], action: str) -> None:
    with db.transaction() as cur:
        for key, etag in objects:
            cur.execute(
                sqlfiles.load("pipeline/segments/record_late"),
                {"source": source, "window_start": window_start, "object_key": key, "etag": etag, "action": action},
            )


def late_in_range(range_start: dt.datetime, range_end: dt.datetime) -> dict[dt.datetime, list[tuple]]:
    """Per window of the range, its late objects: (key, action, found_at)."""
    found: dict[dt.datetime, list[tuple]] = {}
    with db.shared().cursor() as cur:
        cur.execute(
            sqlfiles.load("pipeline/segments/late_in_range"), {"range_start": range_start, "range_end": range_end}
        )
        for start, key, action, found_at in cur.fetchall():
            found.setdefault(start, []).append((key, action, found_at))
    return found
