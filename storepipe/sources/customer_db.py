"""Customer DB: stream the customers whose row changed in a window, on a read-only session."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg2

from storepipe import config, sql
from storepipe.errors import SourceUnavailable
from storepipe.window import Window

COLUMNS = ["customer_id", "first_name", "last_name", "state_code", "datetime_created", "datetime_updated"]
FETCH_ROWS = 10_000  # rows per round trip of the server-side cursor


def iter_customers(window: Window, url: str | None = None) -> Iterator[tuple]:
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
            cur.execute(sql.load("extract/customers_changed_in_window"), window.sql_params())
            yield from cur
        conn.rollback()
    finally:
        conn.close()
