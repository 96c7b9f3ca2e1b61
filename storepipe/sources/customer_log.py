"""Customer DB change log: a logical replication slot read with pgoutput, decoded in Python.

`init` creates the slot and streams the rows of its exported snapshot, `read` streams the committed
changes after the slot's confirmed position, `advance` confirms them once they are landed. Every
change is a plain tuple (see CHANGE_FIELDS); values are PostgreSQL's text output, with the session's
TimeZone, DateStyle, IntervalStyle and extra_float_digits pinned so that re-decoding is byte-identical.
"""

from __future__ import annotations

import datetime as dt
import logging
import struct
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from typing import NamedTuple

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras

from storepipe import sqlfiles
from storepipe.errors import ConfigError, SourceUnavailable, StorepipeError

log = logging.getLogger(__name__)

SLOT = "storepipe_customers"
PUBLICATION = "storepipe_customers"
TABLE = "public.customers"
PLUGIN = "pgoutput"
FETCH_ROWS = 5_000  # snapshot rows per round trip of the server-side cursor
RESET_COMMAND = "storepipe cdc init --reset"
# the settings that change how values are rendered as text; pinned so a re-read gives the same bytes
SESSION_OPTIONS = "-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=iso_8601 -c extra_float_digits=1"

# ops of a change tuple; "snapshot" is a row of init's initial snapshot, "truncate" a TRUNCATE
INSERT, UPDATE, DELETE, TRUNCATE, SNAPSHOT = "insert", "update", "delete", "truncate", "snapshot"
# a change: (op, commit_lsn, committed_at, xid, relation, values, old_values)
CHANGE_FIELDS = ("op", "commit_lsn", "committed_at", "xid", "relation", "values", "old_values")
OP, COMMIT_LSN, COMMITTED_AT, XID, RELATION, VALUES, OLD_VALUES = range(len(CHANGE_FIELDS))

_PG_EPOCH = dt.datetime(2000, 1, 1)  # pgoutput's timestamps: microseconds since then, UTC
_BEGIN = struct.Struct(">QqI")  # final (commit) LSN, commit time, xid
_U16 = struct.Struct(">H").unpack_from
_U32 = struct.Struct(">I").unpack_from


class _Unchanged:
    """An unchanged TOASTed value ('u'): the column kept its previous value, which the log omits."""

    _instance: _Unchanged | None = None

    def __new__(cls) -> _Unchanged:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNCHANGED_TOAST"

    def __reduce__(self) -> str:
        return "UNCHANGED_TOAST"


UNCHANGED_TOAST = _Unchanged()


class Relation(NamedTuple):
    """A table as a Relation message (or the catalog, for the snapshot) describes it."""

    relid: int
    schema: str
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # replica identity (the primary key by default)
    type_oids: tuple[int, ...]
    full_identity: bool = False  # REPLICA IDENTITY FULL: an update carries its old row, a delete its whole row


class DecodeError(StorepipeError):
    """A pgoutput message the decoder does not understand."""


# --- the decoder ----------------------------------------------------------------------------------


class Decoder:
    """pgoutput protocol 1, one message at a time: the transaction and the relations carry between them.

    `relations` (relid -> Relation) holds the Relation messages seen; a peek re-sends them at its
    start and after every ALTER TABLE, so a fresh decoder per peek is enough. An update's old values
    are its old key ('K') or, under REPLICA IDENTITY FULL, its old row ('O') when the new row has an
    unchanged TOASTed value (the only use of it; decoding it always would cost a third more per
    update); otherwise None.
    """

    def __init__(self, relations: dict[int, Relation] | None = None):
        self.relations = {} if relations is None else relations
        self.commit_lsn: int | None = None
        self.committed_at: dt.datetime | None = None
        self.xid: int | None = None

    def begin(self, data) -> None:
        """A 'B' message: the transaction's commit position, time and xid, for the changes that follow."""
        self.commit_lsn, timestamp, self.xid = _BEGIN.unpack_from(data, 1)
        self.committed_at = _PG_EPOCH + dt.timedelta(microseconds=timestamp)

    def changes(self, data) -> tuple[tuple, ...]:
        """The change tuples of one message: none for Begin, Commit, Relation, Origin and Type (they
        update state), one for an insert, update or delete, one per table for a TRUNCATE (op
        "truncate", empty values)."""
        kind = data[0]
        transaction = (self.commit_lsn, self.committed_at, self.xid)
        if kind == 73:  # 'I' insert: relid, 'N', new tuple
            values, _ = _tuple(data, 8, _U16(data, 6)[0])
            return ((INSERT, *transaction, self.relations[_U32(data, 1)[0]], values, None),)
        if kind == 85:  # 'U' update: relid, optional 'K'/'O' old tuple, 'N' new tuple
            old = None
            pos = old_at = 5
            if data[pos] == 75:  # 'K': the old key, when the update changed it
                old, pos = _tuple(data, pos + 3, _U16(data, pos + 1)[0])
            elif data[pos] == 79:  # 'O': the old row (REPLICA IDENTITY FULL), decoded below if needed
                pos = _skip_tuple(data, pos + 1)
            values, _ = _tuple(data, pos + 3, _U16(data, pos + 1)[0])
            if data[old_at] == 79 and UNCHANGED_TOAST in values:
                # the old row is what an unchanged TOASTed value is; every other update needs no old image
                old, _ = _tuple(data, old_at + 3, _U16(data, old_at + 1)[0])
            return ((UPDATE, *transaction, self.relations[_U32(data, 1)[0]], values, old),)
        if kind == 66:  # 'B' begin
            self.begin(data)
            return ()
        if kind == 67:  # 'C' commit
            self.commit_lsn = self.committed_at = self.xid = None
            return ()
        if kind == 68:  # 'D' delete: relid, 'K' key or 'O' old tuple
            values, _ = _tuple(data, 8, _U16(data, 6)[0])
            return ((DELETE, *transaction, self.relations[_U32(data, 1)[0]], values, None),)
        if kind == 82:  # 'R' relation
            relation = _relation(data)
            self.relations[relation.relid] = relation
            return ()
        if kind == 84:  # 'T' truncate: count, options, relids
            relids = (_U32(data, 6 + 4 * i)[0] for i in range(_U32(data, 1)[0]))
            return tuple((TRUNCATE, *transaction, self.relations[relid], (), None) for relid in relids)
        if kind in (79, 89):  # 'O' origin, 'Y' type: nothing a change needs
            return ()
        raise DecodeError(f"unknown pgoutput message {chr(kind)!r}", "customer change log", "read with proto_version 1")


def decode(messages: Iterable[bytes], relations: dict[int, Relation] | None = None) -> Iterator[tuple]:
    """Change tuples from pgoutput protocol 1 messages, in log order (see `Decoder`)."""
    changes = Decoder(relations).changes
    for data in messages:
        yield from changes(data)


def new_text_values(data) -> list[bytes] | None:
    """The new row of an insert or update message as raw UTF-8 bytes, when every value is text; else
    None (a null or an unchanged TOASTed value, an update of the key: decode it with `Decoder`).

    The hot path of a capture: one call per change, the old row (REPLICA IDENTITY FULL) skipped unread.
    """
    u32 = _U32
    pos = _skip_tuple(data, 6) if data[5] == 79 else 5  # 'O': the old row, skipped
    if data[pos] != 78:  # 'N'
        return None
    values = []
    append = values.append
    pos += 3
    for _ in range(_U16(data, pos - 2)[0]):
        if data[pos] != 116:
            return None
        start = pos + 5
        pos = start + u32(data, pos + 1)[0]
        append(data[start:pos])
    return values


def _tuple(data, pos: int, ncols: int) -> tuple[tuple, int]:
    """One TupleData: (values, the position after it); 'n' is None, 'u' UNCHANGED_TOAST, 't' text."""
    values = []
    append = values.append
    u32, unchanged = _U32, UNCHANGED_TOAST
    for _ in range(ncols):
        kind = data[pos]
        if kind == 116:  # 't'
            size = u32(data, pos + 1)[0]
            start = pos + 5
            pos = start + size
            append(str(data[start:pos], "utf-8"))
        elif kind == 110:  # 'n'
            append(None)
            pos += 1
        elif kind == 117:  # 'u'
            append(unchanged)
            pos += 1
        else:
            raise DecodeError(
                f"column kind {chr(kind)!r} in a pgoutput tuple is not text",
                "customer change log",
                "read without the binary option",
            )
    return tuple(values), pos


def _skip_tuple(data, pos: int) -> int:
    """The position after the TupleData at `pos` (its column count first), without decoding its values."""
    u32 = _U32
    pos += 2
    for _ in range(_U16(data, pos - 2)[0]):
        if data[pos] == 116 or data[pos] == 98:  # 't' text, 'b' binary: a length, then the bytes
            pos += 5 + u32(data, pos + 1)[0]
        else:
            pos += 1
    return pos


def _relation(data) -> Relation:
    data = bytes(data)  # a Relation is rare: copy it once to search it for its strings
    relid = _U32(data, 1)[0]
    pos = 5
    schema, pos = _cstring(data, pos)
    name, pos = _cstring(data, pos)
    full_identity = data[pos] == 102  # replica identity setting 'f'
    ncols = _U16(data, pos + 1)[0]
    pos += 3
    columns, key, type_oids = [], [], []
    for _ in range(ncols):
        flags = data[pos]
        column, pos = _cstring(data, pos + 1)
        columns.append(column)
        if flags & 1:
            key.append(column)
        type_oids.append(_U32(data, pos)[0])
        pos += 8  # type oid, type modifier
    return Relation(relid, schema, name, tuple(columns), tuple(key), tuple(type_oids), full_identity)


def _cstring(data: bytes, pos: int) -> tuple[str, int]:
    end = data.index(b"\0", pos)
    return data[pos:end].decode("utf-8"), end + 1


# --- LSNs -----------------------------------------------------------------------------------------


def lsn_text(lsn: int) -> str:
    """An LSN as PostgreSQL writes it (`16/B374D848`)."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def parse_lsn(text: str) -> int:
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


# --- the slot -------------------------------------------------------------------------------------


def init(url: str, slot: str = SLOT, publication: str = PUBLICATION) -> Iterator[tuple]:
    """Create the slot and stream the rows of its exported snapshot, as "snapshot" change tuples.

    Every change after the snapshot is in the slot and none before it, so the rows and `read`
    together give the history with nothing missed or seen twice. When the slot exists already this
    yields nothing. A caller that stops before the last row has an incomplete history: it must drop
    the slot (`drop`) and run this again.
    """
    with closing(_connect(url)) as conn:
        state = _check_source(conn, slot, publication)
        if state is not None:
            if state["lost"]:
                raise _lost(slot)
            log.info("replication slot %s exists already; nothing to initialize", slot)
            return
        relation = _table_relation(conn, TABLE)
    replication = _connect(url, connection_factory=psycopg2.extras.LogicalReplicationConnection)
    try:
        with replication.cursor() as cursor:
            # waits until every transaction that already holds an xid ends (it must see them finish);
            # without options the command exports a snapshot for a logical slot (PostgreSQL's default)
            try:
                cursor.create_replication_slot(slot, output_plugin=PLUGIN)
            except psycopg2.errors.ConfigurationLimitExceeded as err:
                raise ConfigError(
                    f"cannot create replication slot {slot}: {_first_line(err)}",
                    "customer DB (max_replication_slots)",
                    "drop the slots nobody reads (pg_replication_slots, pg_drop_replication_slot) or have the"
                    " DBA raise max_replication_slots",
                ) from None
            _, consistent_point, snapshot, _ = cursor.fetchone()
        log.info("created replication slot %s at %s (snapshot %s)", slot, consistent_point, snapshot)
        commit_lsn = parse_lsn(consistent_point)
        with closing(_connect(url)) as conn:
            # as text, exactly as pgoutput would send them
            text = psycopg2.extensions.new_type(tuple(set(relation.type_oids)), "STOREPIPE_TEXT", _as_text)
            psycopg2.extensions.register_type(text, conn)
            conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ, readonly=True)
            with conn.cursor() as cursor:
                cursor.execute(sqlfiles.load("pipeline/customer_log/set_snapshot"), {"snapshot": snapshot})
            # an exported snapshot lives only until its session runs another command; imported, it is ours
            replication.close()
            with conn.cursor(name="storepipe_customer_snapshot") as cursor:
                cursor.itersize = FETCH_ROWS
                cursor.execute(sqlfiles.load("pipeline/customer_log/snapshot_customers"))
                rows = 0
                for row in cursor:
                    rows += 1
                    yield (SNAPSHOT, commit_lsn, None, None, relation, row, None)
            conn.rollback()
        log.info("initial snapshot of %s: %d rows", TABLE, rows)
    finally:
        replication.close()


class Session:
    """One session on the customer DB for a capture: a slot's state, its reads and its advances, so a
    capture run of many reads pays for one connection (each costs a password exchange)."""

    def __init__(self, url: str):
        self.conn = _connect(url)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    def slot_state(self, slot: str = SLOT) -> dict | None:
        """{"lost", "confirmed_flush_lsn", "lag_bytes"} of the slot; None when there is no such slot."""
        return _slot_state(self.conn, slot)

    def position(self, slot: str = SLOT) -> int | None:
        """The slot's confirmed position (None: no such slot)."""
        state = _slot_state(self.conn, slot)
        return None if state is None else parse_lsn(state["confirmed_flush_lsn"])

    def wal_position(self) -> tuple[int, dt.datetime]:
        """The server's current WAL position and the time (naive UTC) it stands for: a capture reads up to it."""
        with self.conn.cursor() as cursor:
            cursor.execute(sqlfiles.load("pipeline/customer_log/wal_position"))
            read_until, wal_lsn = cursor.fetchone()
        self.conn.rollback()
        return parse_lsn(wal_lsn), read_until

    def read_messages(
        self,
        handle: Callable[[bytes], object],
        slot: str = SLOT,
        *,
        upto_lsn: int | None = None,
        upto_messages: int | None = None,
        publication: str = PUBLICATION,
    ) -> int:
        """Hand `handle` each pgoutput message committed after the slot's confirmed position, in log
        order, whole transactions; returns how many there were.

        Bounded by `upto_lsn` (transactions committed before it) and/or `upto_messages` (decoding stops
        at the first transaction end after that many messages), so one read holds a bounded share of
        the log on the server. The messages come as a binary COPY, one row each, straight into
        `handle`: no result set, no bytea text to unescape, nothing held here. What `handle` raises
        stops the read and reaches the caller.
        """
        conn = self.conn
        _usable_slot(conn, slot)
        params = {
            "slot": slot,
            "upto_lsn": None if upto_lsn is None else lsn_text(upto_lsn),
            "upto_nchanges": upto_messages,
            "publication": publication,
        }
        rows = _CopyRows(handle)
        try:
            with conn.cursor() as cursor:
                # COPY takes no parameters: the client quotes them into the statement
                statement = cursor.mogrify(sqlfiles.load("pipeline/customer_log/copy_changes"), params)
                cursor.copy_expert(statement, rows, size=256 * 1024)
            conn.rollback()
        except psycopg2.Error as err:
            raise _read_error(err, slot, publication) from err
        rows.finish()
        return rows.count

    def advance(self, commit_lsn: int, slot: str = SLOT) -> int:
        """Confirm every transaction that committed at or before `commit_lsn`; returns the slot's position.

        Never moves the slot backwards: a position at or behind the confirmed one is a no-op (a repair
        that advances again after a crash lands here).
        """
        target = commit_lsn + 1  # past the commit record, so the peek skips that transaction
        state = _usable_slot(self.conn, slot)
        confirmed = parse_lsn(state["confirmed_flush_lsn"])
        if target <= confirmed:
            log.debug("slot %s is at %s already, past %s", slot, lsn_text(confirmed), lsn_text(commit_lsn))
            return confirmed
        try:
            with self.conn.cursor() as cursor:
                cursor.execute(
                    sqlfiles.load("pipeline/customer_log/advance_slot"), {"slot": slot, "upto_lsn": lsn_text(target)}
                )
                (position,) = cursor.fetchone()
            self.conn.commit()
        except psycopg2.Error as err:
            self.conn.rollback()
            raise _read_error(err, slot, PUBLICATION) from err
        log.info("advanced slot %s to %s", slot, position)
        return parse_lsn(position)


class _CopyRows:
    """The file a binary COPY of single-bytea rows writes to: each row's value goes to `handle`.

    PostgreSQL sends a row per CopyData message, which psycopg2 hands to `write` as it is: that case
    is one length check; the header (prefixed to the first row), the trailer and any other cut go
    through a buffer.
    """

    _SIGNATURE = b"PGCOPY\n\xff\r\n\x00"

    def __init__(self, handle: Callable[[bytes], object]):
        self.handle, self.count = handle, 0
        self.pending = b""
        self.started = self.ended = False

    def write(self, chunk: bytes) -> int:
        size = len(chunk)
        if not self.pending and self.started and chunk[0] == 0 and chunk[1] == 1 and _U32(chunk, 2)[0] + 6 == size:
            self.count += 1
            self.handle(chunk[6:])
        else:
            self._buffered(chunk)
        return size

    def _buffered(self, chunk: bytes) -> None:
        data, pos = self.pending + chunk, 0
        if not self.started:
            if len(data) < 19:
                self.pending = data
                return
            if not data.startswith(self._SIGNATURE):
                raise DecodeError("the change log's COPY is not binary", "customer change log", "report this")
            pos = 19 + _U32(data, 15)[0]  # signature, flags, header extension length, the extension
            self.started = True
        while len(data) - pos >= 2 and not self.ended:
            if data[pos : pos + 2] == b"\xff\xff":  # the trailer: no more rows
                self.ended, pos = True, pos + 2
                break
            if len(data) - pos < 6:
                break
            end = pos + 6 + _U32(data, pos + 2)[0]
            if end > len(data):
                break
            self.count += 1
            self.handle(data[pos + 6 : end])
            pos = end
        self.pending = data[pos:]

    def finish(self) -> None:
        if self.pending or (self.started and not self.ended):
            raise DecodeError("the change log's COPY ended inside a row", "customer change log", "re-run")


def read(
    url: str,
    slot: str = SLOT,
    *,
    upto_lsn: int | None = None,
    upto_messages: int | None = None,
    publication: str = PUBLICATION,
) -> list[tuple]:
    """The change tuples of one bounded read (see `Session.read_messages`), held in a list: for tools
    and tests; a capture hands the messages to its own handler instead. A TRUNCATE fails the read."""
    decoder, changes = Decoder(), []

    def handle(data: bytes) -> None:
        for change in decoder.changes(data):
            if change[OP] == TRUNCATE:
                raise truncated(change)
            changes.append(change)

    with Session(url) as session:
        session.read_messages(handle, slot, upto_lsn=upto_lsn, upto_messages=upto_messages, publication=publication)
    return changes


def _usable_slot(conn, slot: str) -> dict:
    """The slot's state; one line if it does not exist or was lost."""
    state = _slot_state(conn, slot)
    if state is None:
        raise StorepipeError(f"replication slot {slot} does not exist", "customer DB", "run `storepipe cdc init` first")
    if state["lost"]:
        raise _lost(slot)
    return state


def advance(url: str, commit_lsn: int, slot: str = SLOT) -> int:
    """`Session.advance` on a session of its own."""
    with Session(url) as session:
        return session.advance(commit_lsn, slot)


def slot_state(url: str, slot: str = SLOT) -> dict | None:
    """`Session.slot_state` on a session of its own."""
    with Session(url) as session:
        return session.slot_state(slot)


def lag_bytes(url: str, slot: str = SLOT) -> int | None:
    """Bytes of WAL the slot holds on the server (None: no such slot, or its WAL is lost)."""
    state = slot_state(url, slot)
    return None if state is None else state["lag_bytes"]


def position(url: str, slot: str = SLOT) -> int | None:
    """`Session.position` on a session of its own."""
    with Session(url) as session:
        return session.position(slot)


def wal_position(url: str) -> tuple[int, dt.datetime]:
    """`Session.wal_position` on a session of its own."""
    with Session(url) as session:
        return session.wal_position()


def drop(url: str, slot: str = SLOT) -> bool:
    """Drop the slot (the first step of a reset); False when there was none."""
    with closing(_connect(url)) as conn, conn.cursor() as cursor:
        cursor.execute(sqlfiles.load("pipeline/customer_log/drop_slot"), {"slot": slot})
        dropped = cursor.rowcount > 0
        conn.commit()
    if dropped:
        log.info("dropped replication slot %s", slot)
    return dropped


# --- helpers --------------------------------------------------------------------------------------


def _connect(url: str, **kwargs) -> psycopg2.extensions.connection:
    """A session with the rendering settings pinned (closed by the caller)."""
    try:
        return psycopg2.connect(url, options=SESSION_OPTIONS, application_name="storepipe-capture", **kwargs)
    except psycopg2.OperationalError as err:
        raise SourceUnavailable(
            f"cannot connect to the customer DB for change capture: {_first_line(err)}",
            "SOURCE_DB_CAPTURE_URL",
            "check that it runs and the URL and password are right",
        ) from err


def _check_source(conn, slot: str, publication: str) -> dict | None:
    """Refuse a server or role that cannot capture, in one line each; the slot's state if it exists."""
    with conn.cursor() as cursor:
        cursor.execute(sqlfiles.load("pipeline/customer_log/wal_level"))
        (wal_level,) = cursor.fetchone()
        if wal_level != "logical":
            raise ConfigError(
                f"the customer DB runs at wal_level = {wal_level}; change capture needs logical",
                "customer DB server settings",
                "ask its DBA to set wal_level = logical and max_slot_wal_keep_size (e.g. 1GB), then restart it,"
                " or set [customer_db] capture = query",
            )
        cursor.execute(sqlfiles.load("pipeline/customer_log/role_can_replicate"))
        role, can_replicate = cursor.fetchone()
        if not can_replicate:
            raise ConfigError(
                f"role {role} has no REPLICATION privilege",
                "SOURCE_DB_CAPTURE_URL",
                "use the capture role, or have the DBA run ALTER ROLE ... REPLICATION",
            )
        cursor.execute(sqlfiles.load("pipeline/customer_log/publication_exists"), {"publication": publication})
        (exists,) = cursor.fetchone()
        if not exists:
            raise ConfigError(
                f"publication {publication} does not exist",
                "customer DB",
                "run the source's migrations (`make db-migration`) before `storepipe cdc init`",
            )
    conn.rollback()
    return _slot_state(conn, slot)


def _slot_state(conn, slot: str) -> dict | None:
    with conn.cursor() as cursor:
        cursor.execute(sqlfiles.load("pipeline/customer_log/slot_state"), {"slot": slot})
        row = cursor.fetchone()
    conn.rollback()
    if row is None:
        return None
    plugin, wal_status, invalidated, confirmed, lag = row
    if plugin != PLUGIN:
        raise ConfigError(
            f"replication slot {slot} uses plugin {plugin}, not {PLUGIN}",
            "customer DB",
            f"drop it and run `{RESET_COMMAND}`",
        )
    return {
        "lost": wal_status == "lost" or invalidated,
        "confirmed_flush_lsn": confirmed,
        "lag_bytes": lag,
    }


def _table_relation(conn, table: str) -> Relation:
    with conn.cursor() as cursor:
        cursor.execute(sqlfiles.load("pipeline/customer_log/table_relation"), {"table_name": table})
        rows = cursor.fetchall()
    conn.rollback()
    schema, _, name = table.rpartition(".")
    return Relation(
        0,
        schema or "public",
        name,
        tuple(row[0] for row in rows),
        tuple(row[0] for row in rows if row[2]),
        tuple(row[1] for row in rows),
    )


def _as_text(value: str | None, cursor) -> str | None:
    return value


def _lost(slot: str) -> StorepipeError:
    return StorepipeError(
        f"replication slot {slot} was lost: it fell behind max_slot_wal_keep_size and can no longer get changes",
        "customer DB",
        f"take a new snapshot with `{RESET_COMMAND}`",
    )


def truncated(change: tuple) -> StorepipeError:
    relation = change[RELATION]
    return StorepipeError(
        f"{relation.schema}.{relation.name} was truncated (transaction {change[XID]},"
        f" committed at {change[COMMITTED_AT]:%Y-%m-%d %H:%M:%S} UTC); the change log cannot say which rows went",
        "customer change log",
        f"start a new history with `{RESET_COMMAND}`",
    )


def _read_error(err: psycopg2.Error, slot: str, publication: str) -> StorepipeError:
    text = _first_line(err)
    if "can no longer get changes" in text or "has been invalidated" in text:
        return _lost(slot)
    if "is active for PID" in text:
        return SourceUnavailable(
            f"replication slot {slot} is in use by another session: {text}",
            "customer DB",
            "another consumer reads this slot (storepipe's own captures take turns): stop it, or give"
            " storepipe its own slot with [customer_db] slot",
        )
    if "publication" in text and "does not exist" in text:
        return ConfigError(
            f"publication {publication} does not exist",
            "customer DB",
            f"run the source's migrations, then `{RESET_COMMAND}`",
        )
    if "permission denied" in text or "must be superuser or replication role" in text:
        return ConfigError(
            f"the capture role may not read replication slots: {text}",
            "SOURCE_DB_CAPTURE_URL",
            "use the capture role, or have the DBA run ALTER ROLE ... REPLICATION",
        )
    if isinstance(err, psycopg2.OperationalError):
        return SourceUnavailable(
            f"lost the customer DB while reading its change log: {text}", "SOURCE_DB_CAPTURE_URL", "re-run"
        )
    return StorepipeError(f"reading the customer change log failed: {text}", f"slot {slot}", "see the server's log")


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]
