"""Customer change capture: read the slot, land the changes per window as lake segments, record them, advance.

The rule (README "Customers from the change log"): an insert or update belongs to the window of its
row's `datetime_updated`, a delete to the window of its commit time; the initial snapshot's rows by
their `datetime_updated`. The order of writes makes a kill at any instant repairable: segments,
then the run's manifest, then the ledger rows (with the markers of the windows they reopen) in one
warehouse transaction, and only after its commit the slot's advance. A rerun finds the run that
starts at the slot's position in the ledger (and only advances) or in the lake (and records it).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import itertools
import logging
import operator
import re
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg2.extensions

from storepipe import config
from storepipe.errors import StorepipeError
from storepipe.lake import landing
from storepipe.lake.objects import Lake, window_key
from storepipe.rows import CUSTOMERS, STATE_CODES, Block, Rejected
from storepipe.sources import customer_db, customer_log
from storepipe.sources.customer_log import (
    COMMIT_LSN,
    COMMITTED_AT,
    DELETE,
    INSERT,
    OLD_VALUES,
    OP,
    RELATION,
    UNCHANGED_TOAST,
    UPDATE,
    VALUES,
)
from storepipe.tasks import base
from storepipe.transform import models
from storepipe.warehouse import db, ledger
from storepipe.warehouse.ledger import CHANGES, RESET, SNAPSHOT, Segment
from storepipe.warehouse.markers import EXTRACT, LOAD, PUBLISH, TRANSFORM, marker_name
from storepipe.window import Window, grace, window_minutes, window_start_of

log = logging.getLogger(__name__)

SOURCE = CUSTOMERS.name
COLUMNS = (*CUSTOMERS.columns, "op", "commit_lsn", "committed_at")  # a landed change; store.customers
# pgoutput messages per run: a run's changes wait in memory per window as CSV lines (150-300 bytes a
# change) until the run is landed; a run costs a few connections, fsyncs and a ledger transaction
BATCH_MESSAGES = 100_000
BLOCK_ROWS = 1_000  # rows handed to the lake in one write
_ID, _UPDATED = CUSTOMERS.columns.index("customer_id"), CUSTOMERS.columns.index("datetime_updated")
_CREATED = CUSTOMERS.columns.index("datetime_created")
_U32 = struct.Struct(">I").unpack_from
_STATE_CODES = frozenset(code.encode() for code in STATE_CODES)
_NEEDS_QUOTES = re.compile(rb'["\r\n]').search  # with a comma, what the csv module would quote


@dataclass
class Captured:
    runs: int = 0
    changes: int = 0
    reopened: int = 0
    read_until: dt.datetime | None = None  # the source's clock when the read began: the ledger holds all before


@dataclass
class Initialized:
    """What `storepipe cdc init` found or did."""

    slot: str
    snapshot_rows: int | None  # None: the history was started before, nothing taken now
    position: str
    lag_bytes: int | None
    reset: bool = False


def slot_name(warehouse_url: str | None = None) -> str:
    """The slot of this warehouse: each warehouse fed from the source keeps its own cursor into the log."""
    if config.customer_db().slot and warehouse_url is None:
        return config.customer_db().slot
    dbname = psycopg2.extensions.parse_dsn(warehouse_url or config.warehouse().url).get("dbname", "warehouse")
    return "storepipe_" + re.sub(r"[^a-z0-9_]", "_", dbname.lower())[:50]


def lock(cur, slot: str) -> None:
    """One capture at a time per slot; an extract takes it too, so no segment lands between its read and marker."""
    db.lock(cur, f"capture:{slot}")


def reopened_markers() -> list[str]:
    """The markers a new customers segment undoes: the customers extract and load and what is built on
    them, in the order tasks hold them (`base.marker_order`), which is the order they are deleted in."""
    found: set[str] = set()
    for model in models.discover().values():  # in dependency order
        if SOURCE in model.loads or found & set(model.upstream):
            found.add(model.name)
    return base.marker_order(
        [
            marker_name(EXTRACT, SOURCE),
            marker_name(LOAD, SOURCE),
            *(marker_name(TRANSFORM, name) for name in found if not models.get(name).ephemeral),
            marker_name(PUBLISH),
        ]
    )


@dataclass
class _Sharing:
    read_until: dt.datetime | None = None  # as far as a capture run inside the block read the log


_sharing: list[_Sharing] = []


@contextmanager
def shared_by_block() -> Iterator[None]:
    """Inside the block (a backfill's build), a window's extract runs the capture only if no run inside
    the block has read past the window's end plus grace: a build of 12 windows reads the slot once,
    not 12 times (a replication connection, a read and an advance each, most of a small window's
    extract). The first run reads everything committed so far, as a window's own would: a change
    committed afterwards is captured by the next block's run (or window's), and re-opens its window
    then, as a change committed after any window's capture does."""
    _sharing.append(_Sharing())
    try:
        yield
    finally:
        _sharing.pop()


def read_past(read_until: dt.datetime | None, window: Window) -> bool:
    """Whether a log landed up to `read_until` holds every change of `window`: it is read past the
    window's end plus grace (a commit later than that is late, and re-opens the window when it lands)."""
    return read_until is not None and read_until >= window.end + grace()


def run_for(window: Window) -> None:
    """Run the capture for `window`'s extract, unless a run inside the enclosing block already read past
    the window's end plus grace (the extract checks the ledger itself either way)."""
    block = _sharing[-1] if _sharing else None
    if block is not None and read_past(block.read_until, window):
        return
    captured = run()
    if block is not None:
        block.read_until = captured.read_until


def run(url: str | None = None, lake: Lake | None = None, slot: str | None = None) -> Captured:
    """Land every change committed before now (and the initial snapshot first, if not yet landed)."""
    url = url or config.customer_db().capture_url
    lake = lake or Lake()
    slot = slot or slot_name()
    captured = Captured()
    _snapshot(url, lake, slot, captured)
    with customer_log.Session(url) as source:
        upto, read_until = source.wal_position()
        while True:
            caught_up = False
            with db.transaction() as cur:
                lock(cur, slot)
                position = source.position(slot)
                if position is None:
                    raise StorepipeError(
                        f"replication slot {slot} does not exist any more",
                        "customer DB",
                        f"`{customer_log.RESET_COMMAND}`",
                    )
                from_lsn = customer_log.lsn_text(position)
                recorded, to_lsn = ledger.recorded_run(cur, slot, CHANGES, from_lsn)
                if not recorded:
                    manifest = landing.read_manifest(_manifest_key(slot, CHANGES, position), lake)
                    if manifest is None:
                        gathered = _Gather(window_minutes())
                        source.read_messages(gathered.message, slot, upto_lsn=upto, upto_messages=BATCH_MESSAGES)
                        if not gathered.changes:
                            ledger.mark_read(cur, slot, from_lsn, read_until)
                            caught_up = True
                        else:
                            manifest = _land(lake, slot, CHANGES, position, gathered.last_lsn, gathered.segments())
                            captured.changes += gathered.changes
                    if not caught_up:
                        reopened = ledger.record(
                            cur, slot, CHANGES, from_lsn, manifest["to_lsn"], _segments(manifest), reopened_markers()
                        )
                        captured.reopened += len(reopened)
                        to_lsn = manifest["to_lsn"]
            if caught_up:
                # nothing of ours committed before `upto`: move the slot there, or every later read would
                # decode again all the WAL (the warehouse's own, on a shared server) written since
                _advance(source, upto - 1, slot)
                captured.read_until = read_until
                return captured
            # only now, with the ledger committed, may the slot move past these changes
            _advance(source, customer_log.parse_lsn(to_lsn), slot)
            captured.runs += 1


def _advance(source: customer_log.Session, commit_lsn: int, slot: str) -> None:
    """Advance under the capture's lock: a slot serves one session at a time, and another worker's read
    of it while this one advances would fail with "replication slot ... is active"."""
    with db.transaction() as cur:
        lock(cur, slot)
        source.advance(commit_lsn, slot)


def init(url: str | None = None, lake: Lake | None = None, slot: str | None = None, reset: bool = False) -> Initialized:
    """Start the change history, once: check the server, create the slot, land its consistent snapshot.

    Running it again is a no-op. `reset` starts a new history after a lost slot or a TRUNCATE: the
    old runs stay (every change captured before stays in the history), the slot is dropped and a new
    snapshot is taken, in which a version the log already gave counts once (dim_customers). What
    changed in the gap between the two — superseded versions, deletes — the log can no longer tell.
    """
    url = url or config.customer_db().capture_url
    lake = lake or Lake()
    slot = slot or slot_name()
    if reset:
        _reset(url, lake, slot)
    captured = Captured()
    _snapshot(url, lake, slot, captured)
    state = customer_log.slot_state(url, slot)
    if state is None or state["lost"]:
        # the history was started, and its slot is gone: what changed since then is not in any log
        raise StorepipeError(
            f"replication slot {slot} {'was lost' if state else 'does not exist any more'};"
            " the changes since its last read cannot be captured",
            "customer DB",
            f"start a new history with `{customer_log.RESET_COMMAND}`",
        )
    position = customer_log.parse_lsn(state["confirmed_flush_lsn"])
    return Initialized(
        slot,
        captured.changes if captured.runs else None,
        customer_log.lsn_text(position),
        state["lag_bytes"],
        reset,
    )


def _reset(url: str, lake: Lake, slot: str) -> None:
    """Retire the slot's history at the server's current WAL position: lake first, then the ledger, then
    the slot, so a kill in between is finished by the next `init` (it takes the snapshot again)."""
    upto, _ = customer_log.wal_position(url)
    with db.transaction() as cur:
        lock(cur, slot)
        at = customer_log.lsn_text(upto)
        manifest = {"slot": slot, "kind": RESET, "from_lsn": at, "to_lsn": None, "segments": []}
        landing.write_manifest(_manifest_key(slot, RESET, upto), manifest, lake)
        ledger.record(cur, slot, RESET, manifest["from_lsn"], None, [], [])
    with db.transaction() as cur:
        lock(cur, slot)
        customer_log.drop(url, slot)
    log.warning(
        "slot %s: a new history starts at %s; changes between the last one landed and the new snapshot are"
        " seen only as their result",
        slot,
        manifest["from_lsn"],
    )


def _snapshot(url: str, lake: Lake, slot: str, captured: Captured) -> None:
    """Create the slot and land its snapshot, once; an abandoned snapshot is dropped and taken again."""
    with db.transaction() as cur:
        # no write before the slot exists: creating it waits for every transaction holding an xid
        lock(cur, slot)
        if ledger.snapshot_done(cur, slot):
            return
        position = customer_log.position(url, slot)
        if position is not None and _adopt(cur, lake, slot):
            return
        manifest = None
        if position is not None:
            manifest = landing.read_manifest(_manifest_key(slot, SNAPSHOT, position), lake)
            if manifest is None:
                log.warning("the snapshot of slot %s is not whole, or a reset retired it; taking it again", slot)
                customer_log.drop(url, slot)
        if manifest is None:
            # rows come in window order (the SQL sorts by datetime_updated): one window's rows at a time
            rows = customer_log.init(url, slot)
            first = next(rows, None)
            position = customer_log.position(url, slot)
            if position is None:
                raise StorepipeError(
                    f"replication slot {slot} vanished while its snapshot was taken", "customer DB", "re-run"
                )
            manifest = _land(
                lake, slot, SNAPSHOT, position, position, _grouped(position, [first] if first else [], rows)
            )
            captured.changes += sum(segment["rows"] for segment in manifest["segments"])
        ledger.record(
            cur, slot, SNAPSHOT, manifest["from_lsn"], manifest["to_lsn"], _segments(manifest), reopened_markers()
        )
        captured.runs += 1


def _adopt(cur, lake: Lake, slot: str) -> bool:
    """Record the runs of this slot that the lake holds and the ledger lacks (a warehouse rebuilt from the
    lake: the slot has moved past them, so the lake is their only copy); True if its snapshot is among them."""
    keys = lake.list(f"{SOURCE}/_capture/{slot}/")
    if keys and not any(key.rpartition("/")[2].startswith(SNAPSHOT) for key in keys):
        # a new snapshot would double these changes, and the slot cannot be created inside this transaction
        raise StorepipeError(
            f"the lake holds {len(keys)} capture runs of slot {slot} but not its initial snapshot",
            lake.locate(f"{SOURCE}/_capture/{slot}/"),
            f"restore the snapshot's manifest, or start a new history with `{customer_log.RESET_COMMAND}`",
        )
    # in log order; at one position a reset before the snapshot it calls for, the snapshot before the reads
    rank = {RESET: 0, SNAPSHOT: 1}
    keys.sort(key=lambda key: (key.rpartition("from=")[2], rank.get(key.rpartition("/")[2].partition("-")[0], 2)))
    adopted = False
    for key in keys:
        manifest = landing.read_manifest(key, lake)
        segments = _segments(manifest)
        ledger.record(
            cur, slot, manifest["kind"], manifest["from_lsn"], manifest["to_lsn"], segments, reopened_markers()
        )
        # a snapshot counts only if no reset came after it
        adopted = (adopted or manifest["kind"] == SNAPSHOT) and manifest["kind"] != RESET
    if keys:
        log.info(
            "slot %s: recorded %d runs found in the lake (%s)",
            slot,
            len(keys),
            "snapshot included" if adopted else "no snapshot",
        )
    return adopted


def _grouped(position: int, head: Iterable[tuple], rest: Iterator[tuple]) -> Iterator[tuple]:
    """Snapshot rows, already in window order, as consecutive segments (window, first and last position,
    rows): nothing but the current row is held. A snapshot's rows share one position: the slot's
    consistent point."""
    minutes = window_minutes()
    changes = itertools.chain(head, rest)
    for start, group in itertools.groupby(changes, key=lambda change: _window_of(change, minutes)):
        yield start, position, position, _rows(group)


def _land(lake: Lake, slot: str, kind: str, from_lsn: int, to_lsn: int, segments: Iterable[tuple]) -> dict:
    """Land a run's segments, (window, first lsn, last lsn, rows) each, then its manifest; returns the manifest."""
    minutes = window_minutes()
    landed_segments = []
    changes = 0
    for start, first, last, rows in segments:
        name = f"snapshot={first:016X}" if kind == SNAPSHOT else f"segment={first:016X}-{last:016X}"
        data_key = window_key(SOURCE, Window(start, minutes), f"{name}.csv")
        rejects_key = window_key(SOURCE, Window(start, minutes), f"{name}.rejected.csv")
        landed = landing.land_segment(SOURCE, data_key, rejects_key, rows, list(COLUMNS), lake)
        changes += landed.rows
        landed_segments.append(
            {
                "key": data_key,
                "rejects_key": rejects_key,
                "window_start": start.isoformat(),
                "rows": landed.rows,
                "checksum": landed.checksum,
                "first_lsn": customer_log.lsn_text(first),
                "last_lsn": customer_log.lsn_text(last),
            }
        )
    manifest = {
        "slot": slot,
        "kind": kind,
        "from_lsn": customer_log.lsn_text(from_lsn),
        "to_lsn": customer_log.lsn_text(to_lsn),
        "segments": landed_segments,
    }
    landing.write_manifest(_manifest_key(slot, kind, from_lsn), manifest, lake)
    log.info("%s of slot %s: %d rows landed in %d segments", kind, slot, changes, len(landed_segments))
    return manifest


def _manifest_key(slot: str, kind: str, from_lsn: int) -> str:
    return f"{SOURCE}/_capture/{slot}/{kind}-from={from_lsn:016X}.json"


def _segments(manifest: dict) -> list[Segment]:
    return [
        Segment(
            s["key"],
            s["rejects_key"],
            dt.datetime.fromisoformat(s["window_start"]),
            s["rows"],
            s["checksum"],
            s["first_lsn"],
            s["last_lsn"],
        )
        for s in manifest["segments"]
    ]


def _customer_values(change: tuple, field: int = VALUES) -> tuple:
    """The change's values (or its old image's) in CUSTOMERS.columns order, whatever the table's column order."""
    return _picker(change[RELATION].columns)(change[field])


@functools.cache
def _picker(columns: tuple[str, ...]):
    """A function from a row of these columns to CUSTOMERS.columns' values (None for a column it lacks)."""
    if all(name in columns for name in CUSTOMERS.columns):
        return operator.itemgetter(*(columns.index(name) for name in CUSTOMERS.columns))
    positions = [columns.index(name) if name in columns else None for name in CUSTOMERS.columns]
    return lambda values: tuple(None if i is None else values[i] for i in positions)


def _window_of(change: tuple, minutes: int | None = None) -> dt.datetime:
    """The rule: a delete by its commit time, any other change by its row's datetime_updated."""
    minutes = minutes or window_minutes()
    if change[OP] == DELETE:
        return window_start_of(change[COMMITTED_AT], minutes)
    updated = _customer_values(change)[_UPDATED]
    if len(updated) >= 16 and updated[4] == "-" and updated[10] == " ":  # ISO text: YYYY-MM-DD HH:MM...
        return _window_of_minute(updated[:16], minutes)
    return window_start_of(dt.datetime.fromisoformat(updated), minutes)


@functools.lru_cache(maxsize=4096)
def _window_of_minute(minute: str, minutes: int) -> dt.datetime:
    """The window of a timestamp by its minute's text: windows are whole minutes, and a run's changes
    share few minutes, so each is parsed once rather than once per change."""
    return window_start_of(dt.datetime.fromisoformat(minute), minutes)


def _maybe_odd(values: tuple) -> bool:
    """Whether the customer might be odd: `customer_db.oddities` on the text as it came, where ISO
    timestamps compare as their text does; only then are the values typed and checked for the flag."""
    created, updated = values[_CREATED], values[_UPDATED]
    if not (created and updated and created[4:5] == updated[4:5] == "-"):
        return True  # not ISO text of a 4-digit year: let the typed check decide
    return bool(customer_db.oddities(values))


def _rows(changes: Iterable[tuple]) -> Iterator[tuple | Rejected]:
    """Lake rows of changes (each odd customer followed by its flag), in log order."""
    previous: dict[str, tuple] = {}
    for change in changes:
        yield from _change_rows(change, previous)


def _change_rows(change: tuple, previous: dict[str, tuple]) -> list[tuple | Rejected]:
    """The lake row of one change, and its flag if the customer is odd. `previous` (customer id ->
    values) is the source of an unchanged TOASTed value when the update carries no old row."""
    values = _customer_values(change)
    op = change[OP]
    if op == DELETE:
        # a delete is the key only, whatever the replica identity sends of the old row
        values = tuple(value if i == _ID else None for i, value in enumerate(values))
    elif UNCHANGED_TOAST in values:
        # the log omits an unchanged TOASTed value: the update's old image has it (the source's
        # customers are REPLICA IDENTITY FULL); without one, the customer's previous change here
        before = _customer_values(change, OLD_VALUES) if change[OLD_VALUES] else previous.get(values[_ID])
        values = tuple(
            (before[i] if before else None) if value is UNCHANGED_TOAST else value for i, value in enumerate(values)
        )
    if not change[RELATION].full_identity:
        previous[values[_ID]] = values
    # a snapshot row is the same whichever slot took it: no position or time of its own
    lsn = "" if op == customer_log.SNAPSHOT else customer_log.lsn_text(change[COMMIT_LSN])
    committed = change[COMMITTED_AT].isoformat(sep=" ") if change[COMMITTED_AT] else ""
    found: list[tuple | Rejected] = [(*values, op, lsn, committed)]
    if op != DELETE and _maybe_odd(values):
        typed = list(values)
        typed[_ID] = int(typed[_ID])
        typed[_CREATED] = dt.datetime.fromisoformat(values[_CREATED])
        typed[_UPDATED] = dt.datetime.fromisoformat(values[_UPDATED])
        oddities = customer_db.oddities(tuple(typed))
        if oddities:
            found.append(customer_db.flag(tuple(typed), oddities))
    return found


@dataclass
class _Pending:
    """A window's share of a bounded read: its rows in log order, as the CSV bytes the lake gets
    (flags as `Rejected`), and the positions of its first and last change."""

    first_lsn: int
    last_lsn: int
    items: list


class _Gather:
    """One bounded read's changes, gathered per window as lake rows while the log streams in.

    `message` takes each pgoutput message. The common change, an insert or update of the customers
    table whose values are all plain text, not odd and needing no CSV quotes, becomes its CSV line
    straight from the message's bytes (`_fast`): about a third of the cost of decoding to a change
    tuple and writing it with the csv module, with the same bytes (tests/unit/test_capture_fast_path.py).
    Everything else goes through `customer_log.Decoder` and `_change_rows`. A window's rows are held
    as compact lines until the run is landed, so a read of BATCH_MESSAGES stays small in memory.
    """

    def __init__(self, minutes: int, fast: bool = True):
        self.minutes, self.fast = minutes, fast
        self.decoder = customer_log.Decoder()
        self.windows: dict[dt.datetime, _Pending] = {}
        self.previous: dict[str, tuple] = {}  # for sources without REPLICA IDENTITY FULL (see _change_rows)
        self.changes = 0
        self.last_lsn: int | None = None
        self._tails: dict[int, bytes] = {}  # per transaction: what every line of an op ends with
        self._minute_windows: dict[bytes, dt.datetime] = {}
        self._csv_text = io.StringIO()
        self._csv = csv.writer(self._csv_text, lineterminator=landing.LINE_END.decode())

    def message(self, data: bytes) -> None:
        kind = data[0]
        if kind == 85 or kind == 73:  # 'U', 'I'
            if self.fast and self._fast(data, kind):
                return
        elif kind == 66:  # 'B'
            self.decoder.begin(data)
            self._tails = {}
            return
        elif kind == 67:  # 'C': the next Begin sets what a change needs
            return
        for change in self.decoder.changes(data):
            if change[OP] == customer_log.TRUNCATE:
                raise customer_log.truncated(change)
            self._add(change, _window_of(change, self.minutes), _change_rows(change, self.previous))

    def _fast(self, data: bytes, kind: int) -> bool:
        """Add an insert's or update's CSV line from its bytes; False to leave the message to the decoder."""
        relation = self.decoder.relations.get(_U32(data, 1)[0])
        if relation is None or relation.columns != CUSTOMERS.columns:
            return False
        values = customer_log.new_text_values(data)
        if values is None:
            return False
        customer_id, first_name, last_name, state_code, created, updated = values
        if not (
            b"!" <= first_name[:1] <= b"~"  # a visible ASCII character first: not blank
            and b"!" <= last_name[:1] <= b"~"
            and state_code in _STATE_CODES
            and updated[4:5] == b"-" == created[4:5]
            and updated[10:11] == b" "
            and updated >= created  # ISO text of 4-digit years compares as time does
        ):
            return False  # odd, or maybe: the decoder's path types the values and flags the row
        line = b",".join(values)
        if line.count(b",") != 5 or _NEEDS_QUOTES(line):
            return False
        start = self._minute_windows.get(updated[:16])
        if start is None:
            start = window_start_of(dt.datetime.fromisoformat(updated[:16].decode()), self.minutes)
            self._minute_windows[updated[:16]] = start
        tail = self._tails.get(kind)
        if tail is None:
            decoder = self.decoder
            op = INSERT if kind == 73 else UPDATE
            tail = f",{op},{customer_log.lsn_text(decoder.commit_lsn)},{decoder.committed_at.isoformat(sep=' ')}\r\n"
            tail = self._tails[kind] = tail.encode()
        if not relation.full_identity:
            self.previous[customer_id.decode()] = tuple(value.decode() for value in values)
        lsn = self.decoder.commit_lsn
        pending = self.windows.get(start)
        if pending is None:
            pending = self.windows[start] = _Pending(lsn, lsn, [])
        pending.last_lsn = lsn
        pending.items.append(line + tail)
        self.changes += 1
        self.last_lsn = lsn
        return True

    def _add(self, change: tuple, start: dt.datetime, rows: list) -> None:
        lsn = change[COMMIT_LSN]
        pending = self.windows.get(start)
        if pending is None:
            pending = self.windows[start] = _Pending(lsn, lsn, [])
        pending.last_lsn = lsn
        for row in rows:
            # a row is held as the bytes the lake will get; a flag stays itself, for the rejects object
            pending.items.append(row if isinstance(row, Rejected) else self._encode(row))
        self.changes += 1
        self.last_lsn = lsn

    def _encode(self, row: tuple) -> bytes:
        """A row as `landing`'s csv writer writes it."""
        self._csv.writerow(row)
        text = self._csv_text.getvalue()
        self._csv_text.seek(0)
        self._csv_text.truncate()
        return text.encode()

    def segments(self) -> Iterator[tuple]:
        """(window, first lsn, last lsn, rows) per window touched, windows in time order."""
        for start in sorted(self.windows):
            pending = self.windows[start]
            yield start, pending.first_lsn, pending.last_lsn, _blocks(pending.items)


def _blocks(items: list) -> Iterator[Rejected | Block]:
    """A window's rows for landing: encoded rows in `Block`s of up to BLOCK_ROWS (a window's rows are
    not copied whole once more), each flag as itself."""
    lines: list[bytes] = []
    for item in items:
        if isinstance(item, bytes):
            lines.append(item)
            if len(lines) < BLOCK_ROWS:
                continue
        if lines:
            yield Block(b"".join(lines), len(lines), encoded=True)
            lines = []
        if not isinstance(item, bytes):
            yield item
    if lines:
        yield Block(b"".join(lines), len(lines), encoded=True)
