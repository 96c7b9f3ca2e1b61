"""storepipe.quarantine: the rejected and flagged rows of each window and source, where from and why."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import IO

import psycopg2

from storepipe import sqlfiles
from storepipe.rows import QUARANTINE_COLUMNS
from storepipe.warehouse import db
from storepipe.window import Window

log = logging.getLogger(__name__)

LISTING_LIMIT = 50  # rows `storepipe quarantine` prints unless told otherwise


def replace(cur, window: Window, source: str, rejects: IO[bytes]) -> int:
    """Replace the window's quarantine rows of `source` by the rejects CSV, in the caller's transaction."""
    db.bind_window(cur, window)
    cur.execute(sqlfiles.load("pipeline/quarantine/delete_window"), {**window.sql_params(), "source": source})
    return db.copy_csv(cur, sqlfiles.qualified("storepipe", "quarantine"), list(QUARANTINE_COLUMNS), rejects)


def replace_all(cur, window: Window, source: str, openers: Sequence[Callable[[], AbstractContextManager]]) -> int:
    """Replace the window's quarantine rows of `source` by those of several rejects CSVs (a window's segments)."""
    db.bind_window(cur, window)
    cur.execute(sqlfiles.load("pipeline/quarantine/delete_window"), {**window.sql_params(), "source": source})
    rows = 0
    for open_rejects in openers:
        with open_rejects() as rejects:
            rows += db.copy_csv(cur, sqlfiles.qualified("storepipe", "quarantine"), list(QUARANTINE_COLUMNS), rejects)
    return rows


def record_failed_window(window: Window, source: str, open_rejects: Callable[[], AbstractContextManager]) -> None:
    """Keep the rejects of a failed extract in their own transaction, so users can see why it failed.

    A later successful load replaces them again. Never raises: the extract's own error is the one to report.
    """
    try:
        with db.transaction() as cur, open_rejects() as stream:
            replace(cur, window, source, stream)
    except psycopg2.Error as err:
        log.warning("could not record %s quarantine rows of window %s: %s", source, window.label, err)


def listing(window: Window, source: str | None = None, limit: int = LISTING_LIMIT) -> dict:
    """The window's quarantine rows (up to `limit`, 0 for all) and the counts per source and action."""
    params = {**window.sql_params(), "source": source, "row_limit": limit or None}
    with db.transaction() as cur:
        cur.execute(sqlfiles.load("pipeline/quarantine/counts"), params)
        counts = {(src, action): rows for src, action, rows in cur.fetchall()}
        cur.execute(sqlfiles.load("pipeline/quarantine/rows"), params)
        rows = cur.fetchall()
    return {"window": window, "counts": counts, "rows": rows}
