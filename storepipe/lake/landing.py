"""Land one window of a source in the lake: valid rows and rejected rows as two CSV objects."""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

from storepipe.errors import StorepipeError, TooManyBadRows, UnreadableFile
from storepipe.lake.objects import Lake, window_key
from storepipe.rows import FLAGGED, QUARANTINE_COLUMNS, Block, Rejected
from storepipe.window import Window

log = logging.getLogger(__name__)

PROGRESS_EVERY = 100_000
MANIFEST_LIMIT = 1024 * 1024  # a manifest lists one run's segments: a few per window it touched
LINE_END = b"\r\n"  # csv.writer's; with "\n" instead it would not quote a bare "\r" in a field, which COPY rejects


@dataclass
class Tally:
    """What one window of a source produced, and the set-aside files that fail it."""

    good: int = 0
    bad: int = 0
    flagged: int = 0
    blocking: list[str] | None = None

    def count(self, rejected: Rejected) -> None:
        if rejected.action == FLAGGED:
            self.flagged += 1
            return
        self.bad += 1
        if rejected.fails_window:
            self.blocking = (self.blocking or []) + [f"{rejected.location}: {rejected.reason}"]


def verdict(source: str, window: Window, tally: Tally, max_share: float) -> StorepipeError | None:
    """The error that fails the window, if any: an unreadable file, or more bad rows than the source allows."""
    todo = f"see `storepipe quarantine --window {window.label}`, fix the source, then re-run the window"
    if tally.blocking:
        first = tally.blocking[0] + (f" and {len(tally.blocking) - 1} more" if len(tally.blocking) > 1 else "")
        return UnreadableFile(f"{source}: a file cannot be read: {first}", f"window {window.label}", todo)
    total = tally.good + tally.bad
    if total and tally.bad / total > max_share:
        return TooManyBadRows(
            f"{tally.bad} of {total} {source} rows were rejected ({tally.bad / total:.0%}, limit {max_share:.0%})",
            f"window {window.label}",
            todo,
        )
    return None


@dataclass
class Landed:
    key: str
    rejects_key: str
    rows: int
    rejected: int
    checksum: str


def keys(source: str, window: Window, segment: str | None = None) -> tuple[str, str]:
    """The data and rejects objects of a window (of one of its segments, if named)."""
    if segment is None:
        return window_key(source, window, f"{source}.csv"), window_key(source, window, "rejected.csv")
    return window_key(source, window, f"segment-{segment}.csv"), window_key(
        source, window, f"segment-{segment}.rejected.csv"
    )


def segment_manifest_key(source: str, window: Window, segment: str) -> str:
    """Beside a landed segment, what it holds: the warehouse can then be rebuilt from the lake alone."""
    return window_key(source, window, f"segment-{segment}.manifest.json")


def manifests(lake: Lake, source: str, window: Window) -> list[dict]:
    """The manifests of the window's landed segments, oldest first."""
    folder = window_key(source, window, "")
    found = []
    for key in lake.list(folder):
        if key.endswith(".manifest.json"):
            found.append(read_manifest(key, lake))
    return sorted(found, key=lambda manifest: (manifest["landed_at"], manifest["segment"]))


def land(
    window: Window,
    source: str,
    rows: Iterable[tuple | Rejected],
    columns: list[str],
    lake: Lake,
    max_bad_share: float,
    segment: str | None = None,
    on_failed: Callable[[IO[bytes]], None] | None = None,
    tee: Callable[[bytes], object] | None = None,
) -> Landed:
    """Stream `rows` into the lake: valid rows to the data object, `Rejected` ones to the rejects object.

    If both objects exist already (a crash after landing, before the marker), they are kept,
    never rewritten: a window's lake copy is written once. When the window fails its verdict (an
    unreadable file, too many bad rows), nothing is published: the lake holds landed windows only,
    so the fixed source's next run can still write its keys. `on_failed` gets the rejects (a CSV
    stream; the caller records them in storepipe.quarantine, so `storepipe quarantine --window W`
    shows why) and the verdict is raised. Any other error (a source down mid-stream) publishes nothing.
    `tee` gets the data object's bytes as they are written (`Lake.write`); a kept copy streams none.
    """
    data_key, rejects_key = keys(source, window, segment)
    if lake.exists(data_key) and lake.exists(rejects_key):
        log.info("%s for %s already in the lake at %s; keeping it", source, window, lake.locate(data_key))
        return Landed(data_key, rejects_key, _count(lake, data_key), _count(lake, rejects_key), lake.checksum(data_key))
    tally = Tally()
    # the rejects wait on local disk until the verdict: published with the data, or handed to `on_failed`
    with tempfile.TemporaryFile() as held:
        text = io.TextIOWrapper(held, encoding="utf-8", newline="", write_through=True)
        rejects = csv.writer(text, lineterminator=LINE_END.decode())
        rejects.writerow(QUARANTINE_COLUMNS)
        with lake.write(data_key, tee) as (data_out, written):
            data = _csv_writer(data_out)
            data.writerow(columns)
            _stream(source, window, rows, data, data_out, rejects, tally)
            text.detach()  # the file stays open for what follows
            held.seek(0)
            failed = verdict(source, window, tally, max_bad_share)
            if failed:
                if on_failed:
                    on_failed(held)
                raise failed
            # rejects first: a data object in the lake always has its rejects beside it
            with lake.write(rejects_key) as (rejects_out, _):
                shutil.copyfileobj(held, rejects_out, 1024 * 1024)
    if tally.bad:
        log.warning(
            "%s %s: %d of %d rows quarantined (under the %.0f%% limit); see `storepipe quarantine --window %s`",
            source,
            window,
            tally.bad,
            tally.good + tally.bad,
            max_bad_share * 100,
            window.label,
        )
    log.info("%s %s: %d rows landed, %d rejected, at %s", source, window, tally.good, tally.bad, lake.locate(data_key))
    return Landed(data_key, rejects_key, tally.good, tally.bad + tally.flagged, written.checksum)


def land_segment(
    source: str, data_key: str, rejects_key: str, rows: Iterable[tuple | Rejected], columns: list[str], lake: Lake
) -> Landed:
    """Write one immutable segment (data and flags) of a source's window; an existing one is kept as it is.

    A segment's content is fixed by its key (the change log range it holds), so finding it already
    landed (a crash after landing, before the ledger) means it holds these very bytes.
    """
    if lake.exists(data_key) and lake.exists(rejects_key):
        log.info("segment %s already in the lake; keeping it", lake.locate(data_key))
        return Landed(data_key, rejects_key, _count(lake, data_key), _count(lake, rejects_key), lake.checksum(data_key))
    tally = Tally()
    with lake.write(rejects_key) as (rejects_out, _):
        rejects = _csv_writer(rejects_out)
        rejects.writerow(QUARANTINE_COLUMNS)
        with lake.write(data_key) as (data_out, written):
            data = _csv_writer(data_out)
            data.writerow(columns)
            for row in rows:
                if isinstance(row, Rejected):
                    tally.count(row)
                    rejects.writerow(row.as_row(source))
                elif isinstance(row, Block):
                    data_out.write(_block_bytes(row))
                    tally.good += row.rows
                else:
                    tally.good += 1
                    data.writerow(row)
    return Landed(data_key, rejects_key, tally.good, tally.bad + tally.flagged, written.checksum)


def write_manifest(key: str, manifest: dict, lake: Lake) -> None:
    """Write a capture run's manifest (what it landed), last: its presence says the run's segments are whole."""
    with lake.write(key) as (out, _):
        out.write(json.dumps(manifest, sort_keys=True, indent=1).encode())


def read_manifest(key: str, lake: Lake) -> dict | None:
    if not lake.exists(key):
        return None
    with lake.open(key) as f:
        return json.loads(f.read(MANIFEST_LIMIT))


def _csv_writer(out: IO[bytes]):
    # write_through: each row reaches `out` at once, so a `Block` written to `out` directly stays in order
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    return csv.writer(text, lineterminator=LINE_END.decode())


def _stream(source: str, window: Window, rows, data, data_out: IO[bytes], rejects, tally: Tally) -> None:
    """Write each row to its object, counting as it goes; a `Block` goes to the bytes of the data object."""
    write_row, write_reject = data.writerow, rejects.writerow
    good = 0
    for row in rows:
        if isinstance(row, Rejected):
            tally.count(row)
            write_reject(row.as_row(source))
        elif isinstance(row, Block):
            data_out.write(_block_bytes(row))
            if (good + row.rows) // PROGRESS_EVERY > good // PROGRESS_EVERY:
                log.info("%s %s: %d rows landed", source, window, good + row.rows)
            good += row.rows
        else:
            good += 1
            write_row(row)
            if good % PROGRESS_EVERY == 0:
                log.info("%s %s: %d rows landed", source, window, good)
    tally.good = good


def _block_bytes(block: Block) -> bytes:
    # one line end in the file, as COPY requires
    return block.data if block.encoded else block.data.replace(b"\n", LINE_END)


def _count(lake: Lake, key: str) -> int:
    """Rows in a landed CSV (records, not lines: a quoted field may hold a newline)."""
    with lake.open(key) as f:
        reader = csv.reader(io.TextIOWrapper(f, encoding="utf-8", newline=""))
        next(reader, None)
        return sum(1 for _ in reader)
