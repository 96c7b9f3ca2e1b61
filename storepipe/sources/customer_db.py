"""Customer DB: stream the customers whose row changed in a window, on a read-only session.

Rules (README "When data is bad"): the source's types are enforced by PostgreSQL, so every
customer row loads; a NULL or blank name, a state code outside the 27 Brazilian states, and a
`datetime_updated` before `datetime_created` are *flagged*: the row loads as it is and a
quarantine row with action `flagged` says what is odd, located as `customers customer_id=N ...`.
A flagged row never counts against `max_bad_share`.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg2

from storepipe import config, sqlfiles
from storepipe.errors import SourceUnavailable
from storepipe.rows import FLAGGED, STATE_CODES, Rejected
from storepipe.window import Window

FETCH_ROWS = 10_000  # rows per round trip of the server-side cursor


def iter_customers(window: Window, url: str | None = None) -> Iterator[tuple | Rejected]:
    """The window's changed customers; each odd one is followed by a flag saying what is odd."""
    url = url or config.customer_db().url
    try:
        conn = psycopg2.connect(url, application_name="storepipe-extract")
    except psycopg2.OperationalError as err:
        raise SourceUnavailable(
            f"cannot connect to the customer DB: {str(err).strip().splitlines()[0]}",
            "SOURCE_DB_URL",
            "check that it runs and the URL and password are right",
        ) from err
    try:
        conn.set_session(readonly=True)
        with conn.cursor(name="storepipe_customers") as cur:
            cur.itersize = FETCH_ROWS
            cur.execute(sqlfiles.load("pipeline/customer_db/customers_changed_in_window"), window.sql_params())
            for row in cur:
                yield row
                odd = oddities(row)
                if odd:
                    yield flag(row, odd)
        conn.rollback()
    except psycopg2.OperationalError as err:
        raise SourceUnavailable(
            f"lost the customer DB while reading: {str(err).strip().splitlines()[0]}",
            "SOURCE_DB_URL",
            "check that it runs, then re-run the window",
        ) from err
    finally:
        conn.close()


def oddities(row: tuple) -> list[str]:
    """What is odd about one customer row (empty when nothing is)."""
    _, first_name, last_name, state_code, created, updated = row
    found = []
    if first_name is None or not first_name.strip():
        found.append("first_name is NULL or blank")
    if last_name is None or not last_name.strip():
        found.append("last_name is NULL or blank")
    if state_code is None or state_code.strip().upper() not in STATE_CODES:
        found.append(f"state_code {state_code!r} is not one of the 27 states (state_name will be empty)")
    if updated < created:
        found.append(f"datetime_updated {updated} is before datetime_created {created}")
    return found


def flag(row: tuple, found: list[str]) -> Rejected:
    location = f"customers customer_id={row[0]} datetime_updated={row[5]}"
    raw = ",".join("" if value is None else str(value) for value in row)
    return Rejected(location, "; ".join(found) + " (loaded as it is)", raw, action=FLAGGED)
