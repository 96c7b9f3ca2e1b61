"""Rejected rows: where each came from and why, kept in the lake and loaded into storepipe.quarantine."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import NamedTuple

import psycopg2

from storepipe import config, sql, warehouse
from storepipe.errors import StorepipeError, TooManyBadRows
from storepipe.window import Window

log = logging.getLogger(__name__)

COLUMNS = ["source", "location", "reason", "raw", "action"]
RAW_LIMIT = 2000  # characters of the offending text kept, enough to see what was wrong
REJECTED = "rejected"  # the row is set aside; it counts against the source's max_bad_share
FLAGGED = "flagged"  # the row loads as it is; the note says what is odd about it
LISTING_LIMIT = 50  # rows `storepipe quarantine` prints unless told otherwise
SETTINGS = {  # the luigi.cfg section holding each source's max_bad_share
    "customers": config.customer_db,
    "orders": config.orders_bucket,
    "risk_scores": config.risk_api,
}


class UnreadableFile(StorepipeError):
    """A source file the pipeline cannot read at all (a required column is missing): the window waits for a fix."""


class Rejected(NamedTuple):
    location: str
    reason: str
    raw: str
    action: str = REJECTED
    fails_window: bool = False  # set aside, and the window cannot complete until the source is fixed

    def as_row(self, source: str) -> tuple:
        raw = self.raw if len(self.raw) <= RAW_LIMIT else self.raw[:RAW_LIMIT] + "…"
        return source, _printable(self.location), _printable(self.reason), _printable(raw), self.action


def _printable(text: str) -> str:
    """Undecodable bytes (kept as surrogates) shown as \\xNN; NUL as \\x00, which PostgreSQL text cannot hold."""
    if text.isascii() and "\x00" not in text:
        return text
    shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return shown.replace("\x00", "\\x00")


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


def max_bad_share(source: str) -> float:
    """The source's `max_bad_share` from its own luigi.cfg section ([customer_db], [orders_bucket], [risk_api])."""
    return SETTINGS[source]().max_bad_share


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


def record_failed_window(source: str, window: Window, lake, rejects_key: str) -> None:
    """Replace the window's quarantine rows for `source` with those of a failed extract, so users can see why.

    A later successful load replaces them again, in its own transaction.
    """
    try:
        with warehouse.transaction() as cur:
            warehouse.bind_window(cur, window)
            cur.execute(sql.load("load/delete_quarantine"), {**window.sql_params(), "source": source})
            with lake.open(rejects_key) as stream:
                warehouse.copy_csv(cur, sql.qualified("storepipe", "quarantine"), COLUMNS, stream)
    except psycopg2.Error as err:
        log.warning("could not record %s quarantine rows of window %s: %s", source, window.label, err)


def listing(window: Window, source: str | None = None, limit: int = LISTING_LIMIT) -> dict:
    """The window's quarantine rows (up to `limit`, 0 for all) and the counts per source and action."""
    params = {**window.sql_params(), "source": source, "row_limit": limit or None}
    with warehouse.transaction() as cur:
        cur.execute(sql.load("quarantine/counts"), params)
        counts = {(src, action): rows for src, action, rows in cur.fetchall()}
        cur.execute(sql.load("quarantine/rows"), params)
        rows = cur.fetchall()
    return {"window": window, "counts": counts, "rows": rows}


def render(found: dict) -> str:
    """A readable listing: one block per row, location first, then reason and the raw text."""
    window, counts, rows = found["window"], found["counts"], found["rows"]
    total = sum(counts.values())
    if not total:
        return f"storepipe quarantine: window {window.label} has no quarantined rows"
    summary = ", ".join(f"{src} {rows} {action}" for (src, action), rows in sorted(counts.items()))
    lines = [f"storepipe quarantine: window {window.label}: {summary}", ""]
    for src, action, location, reason, raw, when in rows:
        lines.append(f"{src:<12} {action:<9} {location}")
        lines.append(f"    why: {reason}")
        if raw:
            lines.append(f"    raw: {raw if len(raw) <= 200 else raw[:200] + '…'}".replace("\n", "\\n"))
        lines.append(f"    at:  {when:%Y-%m-%d %H:%M:%S %Z}".rstrip())
    if len(rows) < total:
        lines += ["", f"... {total - len(rows)} more (--limit 0 lists all)"]
    return "\n".join(lines)
