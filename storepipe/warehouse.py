"""Warehouse connections, the per-task lock and the streamed COPY that every load goes through."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import psycopg2
import psycopg2.extensions
from psycopg2 import sql as pgsql

from storepipe import config, sql
from storepipe.window import Window

log = logging.getLogger(__name__)

_shared: dict[tuple[int, str], psycopg2.extensions.connection] = {}


def connect(url: str | None = None, *, application: str = "storepipe") -> psycopg2.extensions.connection:
    conn = psycopg2.connect(url or config.warehouse().url, application_name=application)
    timeout = config.warehouse().statement_timeout_s
    if timeout:
        with conn.cursor() as cur:
            cur.execute(sql.load("warehouse/statement_timeout"), {"timeout": f"{timeout}s"})
        conn.commit()
    return conn


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
    """One transaction: commit on success, roll back on any error, always close."""
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            yield cur
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()


def lock(cur, name: str) -> None:
    """Serialize writers holding `name` across processes and hosts until the transaction ends."""
    cur.execute(sql.load("warehouse/lock"), {"lock_name": name})


def bind_window(cur, window: Window) -> None:
    """Let loaded tables' `window_start` default come from this transaction."""
    cur.execute(sql.load("warehouse/bind_window"), window.sql_params())


def is_partitioned(cur, schema: str, table: str) -> bool:
    cur.execute(sql.load("warehouse/is_partitioned"), {"relation": f"{schema}.{table}"})
    return bool(cur.fetchone()[0])


@dataclass(frozen=True)
class WindowSwap:
    """The statements that replace a window's partition: create `fresh`, fill it, then `swap` it in."""

    create: pgsql.Composable
    fresh: pgsql.Identifier
    swap: pgsql.Composable
    params: dict


def window_swap(cur, schema: str, table: str, window: Window) -> WindowSwap:
    params = window.sql_params()
    cur.execute(sql.load("warehouse/window_partition_name"), {**params, "parent": table})
    name = cur.fetchone()[0]
    fresh = f"{name}_new"
    swap = sql.compose(
        "warehouse/swap_in_partition",
        parent=sql.qualified(schema, table),
        partition=sql.qualified(schema, name),
        partition_name=pgsql.Identifier(name),
        fresh=sql.qualified(schema, fresh),
    )
    params = {**params, "parent": f"{schema}.{table}", "fresh": fresh}
    return WindowSwap(pgsql.SQL(sql.load("warehouse/create_window_table")), sql.qualified(schema, fresh), swap, params)


@contextmanager
def window_partition(cur, schema: str, table: str, window: Window) -> Iterator[pgsql.Identifier]:
    """Yield a fresh table to fill with the window's rows; on exit it replaces the window's partition.

    Filling an unindexed table created in this transaction is as fast as PostgreSQL writes, and the
    parent is locked only by the final swap, from then until the caller's commit.
    """
    swap = window_swap(cur, schema, table, window)
    cur.execute(swap.create, swap.params)
    yield swap.fresh
    cur.execute(swap.swap, swap.params)


def copy_csv(cur, table: pgsql.Composable, columns: list[str], stream: IO[bytes]) -> int:
    """Stream a CSV with a header row into `table` by COPY; returns the rows copied."""
    statement = sql.compose(
        "warehouse/copy_csv",
        table=table,
        columns=pgsql.SQL(", ").join(pgsql.Identifier(c) for c in columns),
    )
    cur.copy_expert(statement, stream, size=64 * 1024)
    return cur.rowcount


def close_shared() -> None:
    """Close this process's lookup connections (before dropping or switching a warehouse)."""
    for key, conn in list(_shared.items()):
        conn.close()
        del _shared[key]
