"""Task failures per window: recorded when a task fails, so status and dry runs can tell failed from missing."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

import psycopg2

from storepipe import sqlfiles
from storepipe.errors import StorepipeError
from storepipe.warehouse import db

log = logging.getLogger(__name__)


def describe(error: BaseException) -> str:
    """One line for a failure: a StorepipeError's own line, a PostgreSQL error explained, else type and first line."""
    if isinstance(error, psycopg2.Error):
        error = db.explain(error)
    if isinstance(error, StorepipeError):
        return error.line()
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def record(task_name: str, window_start: dt.datetime, task_id: str, error: BaseException) -> None:
    """Keep the task's latest failure for the window; never raises (it runs in Luigi's failure hook)."""
    try:
        with db.transaction() as cur:
            cur.execute(
                sqlfiles.load("pipeline/failures/record"),
                {
                    "task_name": task_name,
                    "window_start": window_start,
                    "task_id": task_id,
                    "error": describe(error),
                },
            )
    except (psycopg2.Error, StorepipeError) as err:
        log.warning("could not record the failure of %s: %s", task_id, describe(err))


def unresolved(starts: Iterable[dt.datetime]) -> dict[dt.datetime, str]:
    """Per window, its latest failure that no later marker of the same task resolved: `task: error`."""
    starts = list(starts)
    if not starts:
        return {}
    with db.shared().cursor() as cur:
        cur.execute(sqlfiles.load("pipeline/failures/unresolved"), {"starts": starts})
        return {start: f"{task_name}: {error}" for start, task_name, error in cur.fetchall()}


def to_alert(starts: Iterable[dt.datetime], repeat_after: dt.timedelta) -> set[dt.datetime]:
    """The windows among `starts` with an unresolved failure that no alert named yet, or none for `repeat_after`."""
    starts = list(starts)
    if not starts:
        return set()
    with db.shared().cursor() as cur:
        cur.execute(sqlfiles.load("pipeline/failures/to_alert"), {"starts": starts, "repeat_after": repeat_after})
        return {row[0] for row in cur.fetchall()}


def mark_alerted(starts: Iterable[dt.datetime]) -> None:
    """The failures of these windows were just in an alert."""
    with db.transaction() as cur:
        cur.execute(sqlfiles.load("pipeline/failures/mark_alerted"), {"starts": list(starts)})
