"""Warehouse connections, the per-task lock, the streamed COPY every load goes through, and what a
PostgreSQL error means to a user."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql as pgsql

from storepipe import config, sqlfiles
from storepipe.errors import WarehouseError
from storepipe.window import Window

log = logging.getLogger(__name__)

_shared: dict[tuple[int, str], psycopg2.extensions.connection] = {}
# connections between transactions, per process, URL and session options (see `transaction`)
_idle: dict[tuple[int, str, str], list[tuple[psycopg2.extensions.connection, float]]] = {}
IDLE_PER_PROCESS = 4  # a worker runs one task at a time; the capture nests one transaction in another
# a connection kept for less than this is reused without a ping: the tasks of a window follow one
# another within milliseconds (a ping each was ~12 of a small window's ~150 statements); a server
# that went away in between fails that transaction, which its task reports and a re-run repeats
PING_AFTER_IDLE_S = 1.0


def connect(url: str | None = None, *, application: str = "storepipe") -> psycopg2.extensions.connection:
    url = url or config.warehouse().url
    return psycopg2.connect(url, application_name=application, **session_options(url))


def session_options(url: str) -> dict[str, str | int]:
    """Connection options from [warehouse]: timeouts and keepalives, set with the connection (no round trip).

    The server's keepalives let it notice a dead worker (and release its locks) in bounded time, the
    client's let a worker notice a dead server; over a Unix socket both are moot. A URL's own
    `options` are kept, after ours, so they win.
    """
    settings = config.warehouse()
    server: dict[str, str | int] = {
        "statement_timeout": f"{settings.statement_timeout_s}s",
        "lock_timeout": f"{settings.lock_timeout_s}s",
    }
    client: dict[str, str | int] = {}
    if settings.keepalive_s:
        interval = max(1, settings.keepalive_s // 3)
        server |= {"tcp_keepalives_idle": settings.keepalive_s, "tcp_keepalives_interval": interval}
        server["tcp_keepalives_count"] = 3
        client = {"keepalives": 1, "keepalives_idle": settings.keepalive_s, "keepalives_interval": interval}
        client["keepalives_count"] = 3
    ours = " ".join(f"-c {name}={value}" for name, value in server.items())
    theirs = psycopg2.extensions.parse_dsn(url).get("options", "")
    return {**client, "options": f"{ours} {theirs}".strip()}


def shared() -> psycopg2.extensions.connection:
    """One autocommit connection per process for read-only lookups (markers).

    Keyed by pid so a forked worker never reuses its parent's socket.
    """
    url = config.warehouse().url
    key = (os.getpid(), url)
    conn = _shared.get(key)
    if conn is None or conn.closed:
        conn = connect(url, application="storepipe-markers")
        conn.autocommit = True
        _shared[key] = conn
    return conn


@contextmanager
def transaction(url: str | None = None) -> Iterator[psycopg2.extensions.cursor]:
    """One transaction: commit on success, roll back on any error.

    Its connection is kept for this process's next transaction: opening one costs a password
    exchange (7-12 ms here, a dozen times a window), more than most of a small window's statements.
    Nothing of a transaction outlives it on the connection (locks, `set_config(..., true)`, temporary
    tables are all transaction-scoped); a connection that broke is closed, not kept.
    """
    url = url or config.warehouse().url
    options = session_options(url)
    key = (os.getpid(), url, repr(sorted(options.items())))
    idle = _idle.setdefault(key, [])
    conn = _reusable(*idle.pop()) if idle else None
    if conn is None:
        conn = psycopg2.connect(url, application_name="storepipe", **options)
    try:
        with conn.cursor() as cur:
            yield cur
        conn.commit()
    except BaseException:
        try:
            conn.rollback()
        except psycopg2.Error:
            conn.close()
        raise
    finally:
        if conn.closed or len(idle) >= IDLE_PER_PROCESS:
            conn.close()
        else:
            idle.append((conn, time.monotonic()))


def _reusable(conn: psycopg2.extensions.connection, kept_at: float) -> psycopg2.extensions.connection | None:
    """The kept connection if the server still answers it (it may have restarted, or dropped an idle
    session), else None; one round trip, a fraction of a new connection's cost, and none at all for a
    connection kept under PING_AFTER_IDLE_S."""
    if time.monotonic() - kept_at < PING_AFTER_IDLE_S:
        return conn
    try:
        with conn.cursor() as cur:
            cur.execute(sqlfiles.load("pipeline/db/ping"))
        return conn
    except psycopg2.Error:
        conn.close()
        return None


def lock(cur, name: str) -> None:
    """Serialize writers holding `name` across processes and hosts until the transaction ends."""
    cur.execute(sqlfiles.load("pipeline/db/lock"), {"lock_name": name})


def bind_window(cur, window: Window) -> None:
    """Let loaded tables' `window_start` default come from this transaction."""
    cur.execute(sqlfiles.load("pipeline/db/bind_window"), window.sql_params())


def analyze(cur, table: pgsql.Composable) -> None:
    """Statistics for `table` now, inside the caller's transaction (pipeline/db/analyze_table.sql says how)."""
    cur.execute(sqlfiles.compose("pipeline/db/analyze_table", table=table))


def copy_csv(cur, table: pgsql.Composable, columns: list[str], stream: IO[bytes], *, freeze: bool = False) -> int:
    """Stream a CSV with a header row into `table` by COPY; returns the rows copied.

    `freeze`, only for a table created in this transaction: the rows are written frozen and their pages
    all-visible, so no reader sets hint bits on them (dirtying every page again) and no vacuum comes
    back to freeze them (each would write the window's orders once more). PostgreSQL's one exception to
    MVCC for frozen rows, that a snapshot older than the commit sees them, changes nothing here: such
    a snapshot would otherwise see the window's new partition empty, its old one being gone.
    """
    statement = sqlfiles.compose(
        "pipeline/db/copy_csv",
        table=table,
        columns=pgsql.SQL(", ").join(pgsql.Identifier(c) for c in columns),
        freeze=pgsql.SQL("true" if freeze else "false"),
    )
    cur.copy_expert(statement, stream, size=64 * 1024)
    return cur.rowcount


def close_shared() -> None:
    """Close this process's lookup connections and kept transaction connections (before dropping or
    switching a warehouse)."""
    pid = os.getpid()
    for key, conn in list(_shared.items()):
        if key[0] == pid:
            conn.close()
        del _shared[key]
    for key, idle in list(_idle.items()):
        if key[0] == pid:
            for conn, _ in idle:
                conn.close()
        del _idle[key]


def explain(err: psycopg2.Error, where: str = "WAREHOUSE_URL") -> WarehouseError:
    """One line for a PostgreSQL error, naming what happened: a timeout is a timeout, not "cannot reach"."""
    text = str(err).strip().splitlines()
    first = text[0] if text else type(err).__name__
    if isinstance(err, psycopg2.errors.QueryCanceled):
        return WarehouseError(
            f"a statement ran past its timeout: {first}",
            where,
            "raise [warehouse] statement_timeout_s, or find what it waits for",
        )
    if isinstance(err, psycopg2.errors.LockNotAvailable):
        return WarehouseError(
            f"a lock was not granted in time: {first}",
            where,
            "another worker holds it (see pg_locks); retry when it is done, or raise [warehouse] lock_timeout_s",
        )
    if isinstance(err, psycopg2.OperationalError) and err.pgcode is None:
        return WarehouseError(f"cannot reach PostgreSQL: {first}", where, "run `storepipe up` or check the URLs")
    code = f" [{err.pgcode}]" if err.pgcode else ""
    return WarehouseError(f"PostgreSQL refused: {first}{code}", where, "see the server log for the statement")
