"""storepipe.quarantine: the rejected and flagged rows of each window and source, where from and why."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager

import psycopg2

from storepipe import sqlfiles
from storepipe.rows import QUARANTINE_COLUMNS
from storepipe.warehouse import db
from storepipe.window import Window

log = logging.getLogger(__name__)

LISTING_LIMIT = 50  # rows `storepipe quarantine` prints unless told otherwise


def replace(cur, window: Window, source: str, rejects: list[AbstractContextManager]) -> int:
    """Replace the window's quarantine rows of `source` by those of the rejects CSVs (each opened in
    turn), in the caller's transaction."""
    db.bind_window(cur, window)
    cur.execute(sqlfiles.load("pipeline/quarantine/delete_window"), {**window.sql_params(), "source": source})
    table, rows = sqlfiles.qualified("storepipe", "quarantine"), 0
    for opening in rejects:
        with opening as stream:
            rows += db.copy_csv(cur, table, list(QUARANTINE_COLUMNS), stream)
    return rows


def record_failed_window(window: Window, source: str, open_rejects: Callable[[], AbstractContextManager]) -> None:
    """Keep the rejects of a failed extract in their own transaction, so users can see why it failed.

    A later successful load replaces them again. Never raises: the extract's own error is the one to report.
    """
    try:
        with db.transaction() as cur:
            replace(cur, window, source, [open_rejects()])
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
