"""Customer change capture: read the slot, land the changes per window as lake segments, record them, advance.

The rule (README "Customers from the change log"): an insert or update belongs to the window of its
row's `datetime_updated`, a delete to the window of its commit time; the initial snapshot's rows by
their `datetime_updated`. The order of writes makes a kill at any instant repairable: segments,
then the run's manifest, then the ledger rows (with the markers of the windows they reopen) in one
warehouse transaction, and only after its commit the slot's advance. A rerun finds the run that
starts at the slot's position in the ledger (and only advances) or in the lake (and records it).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import logging
import operator
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import psycopg2.extensions

from storepipe import config
from storepipe.errors import StorepipeError
from storepipe.lake import landing
from storepipe.lake.objects import Lake, window_key
from storepipe.rows import CUSTOMERS, Rejected
from storepipe.sources import customer_db, customer_log
from storepipe.sources.customer_log import (
    COMMIT_LSN,
    COMMITTED_AT,
    DELETE,
    OLD_VALUES,
    OP,
    RELATION,
    UNCHANGED_TOAST,
    VALUES,
)
from storepipe.transform import models
from storepipe.warehouse import db, ledger
from storepipe.warehouse.ledger import CHANGES, RESET, SNAPSHOT, Segment
from storepipe.warehouse.markers import EXTRACT, LOAD, PUBLISH, TRANSFORM, marker_name
from storepipe.window import Window, window_minutes, window_start_of

log = logging.getLogger(__name__)

SOURCE = CUSTOMERS.name
COLUMNS = (*CUSTOMERS.columns, "op", "commit_lsn", "committed_at")  # a landed change; store.customers
# pgoutput messages per run: a run's changes are grouped by window in memory (about 1.5 kB a change)
BATCH_MESSAGES = 20_000
_ID, _UPDATED = CUSTOMERS.columns.index("customer_id"), CUSTOMERS.columns.index("datetime_updated")
_CREATED = CUSTOMERS.columns.index("datetime_created")


@dataclass
class Captured:
    runs: int = 0
    changes: int = 0
    reopened: int = 0


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
    """The markers a new customers segment undoes: the customers extract and load and what is built on them."""
    found: set[str] = set()
    for model in models.discover().values():  # in dependency order
        if SOURCE in model.loads or found & set(model.upstream):
            found.add(model.name)
    return [
        marker_name(EXTRACT, SOURCE),
        marker_name(LOAD, SOURCE),
        *(marker_name(TRANSFORM, name) for name in sorted(found)),
        marker_name(PUBLISH),
    ]


def run(url: str | None = None, lake: Lake | None = None, slot: str | None = None) -> Captured:
    """Land every change committed before now (and the initial snapshot first, if not yet landed)."""
    url = url or config.customer_db().capture_url
    lake = lake or Lake()
    slot = slot or slot_name()
    captured = Captured()
    _snapshot(url, lake, slot, captured)
    upto, read_until = customer_log.wal_position(url)
    while True:
        caught_up = False
        with db.transaction() as cur:
            lock(cur, slot)
            position = customer_log.position(url, slot)
            if position is None:
                raise StorepipeError(
                    f"replication slot {slot} does not exist any more", "customer DB", f"`{customer_log.RESET_COMMAND}`"
                )
            from_lsn = customer_log.lsn_text(position)
            recorded, to_lsn = ledger.recorded_run(cur, slot, CHANGES, from_lsn)
            if not recorded:
                manifest = landing.read_manifest(_manifest_key(slot, CHANGES, position), lake)
                if manifest is None:
                    changes = list(customer_log.read(url, slot, upto_lsn=upto, upto_messages=BATCH_MESSAGES))
                    if not changes:
                        ledger.mark_read(cur, slot, from_lsn, read_until)
                        caught_up = True
                    else:
                        manifest = _land(lake, slot, CHANGES, position, changes[-1][COMMIT_LSN], _by_window(changes))
                        captured.changes += len(changes)
                if not caught_up:
                    reopened = ledger.record(
                        cur, slot, CHANGES, from_lsn, manifest["to_lsn"], _segments(manifest), reopened_markers()
                    )
                    captured.reopened += len(reopened)
                    to_lsn = manifest["to_lsn"]
        if caught_up:
            # nothing of ours committed before `upto`: move the slot there, or every later read would
            # decode again all the WAL (the warehouse's own, on a shared server) written since
            _advance(url, upto - 1, slot)
            return captured
        # only now, with the ledger committed, may the slot move past these changes
        _advance(url, customer_log.parse_lsn(to_lsn), slot)
        captured.runs += 1


def _advance(url: str, commit_lsn: int, slot: str) -> None:
    """Advance under the capture's lock: a slot serves one session at a time, and another worker's read
    of it while this one advances would fail with "replication slot ... is active"."""
    with db.transaction() as cur:
        lock(cur, slot)
        customer_log.advance(url, commit_lsn, slot)


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
            manifest = _land(lake, slot, SNAPSHOT, position, position, _grouped([first] if first else [], rows))
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


def _by_window(changes: list[tuple]) -> Iterator[tuple[dt.datetime, Iterable[tuple]]]:
    """A bounded read's changes grouped by window, windows in time order, changes in log order."""
    by_window: dict[dt.datetime, list[tuple]] = {}
    minutes = window_minutes()
    for change in changes:
        by_window.setdefault(_window_of(change, minutes), []).append(change)
    for start in sorted(by_window):
        yield start, by_window[start]


def _grouped(head: Iterable[tuple], rest: Iterator[tuple]) -> Iterator[tuple[dt.datetime, Iterable[tuple]]]:
    """Snapshot rows, already in window order, as consecutive groups: nothing but the current row is held."""
    minutes = window_minutes()
    yield from itertools.groupby(itertools.chain(head, rest), key=lambda change: _window_of(change, minutes))


def _land(
    lake: Lake, slot: str, kind: str, from_lsn: int, to_lsn: int, groups: Iterable[tuple[dt.datetime, Iterable[tuple]]]
) -> dict:
    """Land a run's changes as one segment per window, then its manifest; returns the manifest."""
    minutes = window_minutes()
    segments = []
    changes = 0
    for start, window_changes in groups:
        if kind == SNAPSHOT:  # a snapshot's rows share one position: the slot's consistent point
            first = last = from_lsn
        else:
            window_changes = list(window_changes)
            first, last = window_changes[0][COMMIT_LSN], window_changes[-1][COMMIT_LSN]
        name = f"snapshot={first:016X}" if kind == SNAPSHOT else f"segment={first:016X}-{last:016X}"
        data_key = window_key(SOURCE, Window(start, minutes), f"{name}.csv")
        rejects_key = window_key(SOURCE, Window(start, minutes), f"{name}.rejected.csv")
        landed = landing.land_segment(SOURCE, data_key, rejects_key, _rows(window_changes), list(COLUMNS), lake)
        changes += landed.rows
        segments.append(
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
        "segments": segments,
    }
    landing.write_manifest(_manifest_key(slot, kind, from_lsn), manifest, lake)
    log.info("%s of slot %s: %d rows landed in %d segments", kind, slot, changes, len(segments))
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
    """Lake rows of one window's changes (each odd customer followed by its flag), in log order."""
    previous: dict[str, tuple] = {}
    transaction, lsn, committed = None, "", ""
    for change in changes:
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
        previous[values[_ID]] = values
        if change[COMMIT_LSN] != transaction:  # once per transaction: its changes share both
            transaction = change[COMMIT_LSN]
            # a snapshot row is the same whichever slot took it: no position or time of its own
            lsn = "" if op == customer_log.SNAPSHOT else customer_log.lsn_text(transaction)
            committed = change[COMMITTED_AT].isoformat(sep=" ") if change[COMMITTED_AT] else ""
        yield (*values, op, lsn, committed)
        if op != DELETE and _maybe_odd(values):
            typed = list(values)
            typed[_ID] = int(typed[_ID])
            typed[_CREATED] = dt.datetime.fromisoformat(values[_CREATED])
            typed[_UPDATED] = dt.datetime.fromisoformat(values[_UPDATED])
            oddities = customer_db.oddities(tuple(typed))
            if oddities:
                yield customer_db.flag(tuple(typed), oddities)
