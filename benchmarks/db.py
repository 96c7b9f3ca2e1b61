"""The benchmark's databases: one migrated template, and a fresh copy of it for every timed run."""

from __future__ import annotations

import os
import secrets
from contextlib import closing
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql as pgsql

from storepipe.sources import customer_log
from storepipe.tasks import capture

SQL_DIR = Path(__file__).resolve().parent / "sql"
TEMPLATE = "bench_template"
OWNER = "sde"


@cache
def load(name: str) -> str:
    """A statement of benchmarks/sql/ by name (the benchmark keeps its SQL out of Python too)."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def compose(name: str, **identifiers: str) -> pgsql.Composed:
    return pgsql.SQL(load(name)).format(**{k: pgsql.Identifier(v) for k, v in identifiers.items()})


def with_database(url: str, database: str) -> str:
    """The same server and role, another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def _admin(admin_url: str):
    conn = psycopg2.connect(with_database(admin_url, "postgres"))
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    return conn


def make_template(admin_url: str, warehouse_url: str, window_start) -> None:
    """Copy the stack's migrated warehouse once, and add the bench tables to the copy."""
    with closing(_admin(admin_url)) as conn, conn.cursor() as cur:
        cur.execute(compose("drop_database", database=TEMPLATE))
        cur.execute(compose("create_database", database=TEMPLATE, template="warehouse", owner=OWNER))
    with closing(psycopg2.connect(with_database(warehouse_url, TEMPLATE))) as conn, conn, conn.cursor() as cur:
        cur.execute(load("bench_tables"), {"window_start": window_start})


def fresh(admin_url: str, warehouse_url: str, label: str) -> tuple[str, str]:
    """A new database copied from the template: (its name, the warehouse URL that points at it)."""
    name = f"bench_{label}_{secrets.token_hex(3)}"
    with closing(_admin(admin_url)) as conn, conn.cursor() as cur:
        cur.execute(compose("create_database", database=name, template=TEMPLATE, owner=OWNER))
    return name, with_database(warehouse_url, name)


def drop(admin_url: str, name: str) -> None:
    """A run's database, and the replication slot its customer capture made on the source for it: a slot
    outlives the warehouse it feeds, and the server holds ten (a full run makes a dozen)."""
    with closing(_admin(admin_url)) as conn, conn.cursor() as cur:
        cur.execute(compose("drop_database", database=name))
    customer_log.drop(admin_url, capture.slot_name(with_database(admin_url, name)))


def quiesce(admin_url: str) -> None:
    """Write out what the last case left dirty (a PostgreSQL checkpoint, then the OS's page cache), untimed.

    Otherwise a case pays for its predecessor's writes: a 5M-row window leaves gigabytes to flush.
    """
    with closing(_admin(admin_url)) as conn, conn.cursor() as cur:
        cur.execute(load("checkpoint"))
    os.sync()


def count_window(url: str, schema: str, table: str, window_start) -> int:
    """Rows of `schema.table` in the window: every case's result is checked after it is timed."""
    statement = pgsql.SQL(load("count_window")).format(table=pgsql.Identifier(schema, table))
    with closing(psycopg2.connect(url)) as conn, conn, conn.cursor() as cur:
        cur.execute(statement, {"window_start": window_start})
        return int(cur.fetchone()[0])


def floor_facts(url: str, window_start) -> tuple[int, int]:
    """The floor's facts for the window, and how many of them found no customer version."""
    with closing(psycopg2.connect(url)) as conn, conn, conn.cursor() as cur:
        cur.execute(load("floor_facts"), {"window_start": window_start})
        facts, unknown = cur.fetchone()
        return int(facts), int(unknown)


def count_all(url: str, schema: str, table: str) -> int:
    statement = pgsql.SQL(load("count_all")).format(table=pgsql.Identifier(schema, table))
    with closing(psycopg2.connect(url)) as conn, conn, conn.cursor() as cur:
        cur.execute(statement)
        return int(cur.fetchone()[0])


def server_version(url: str) -> str:
    with closing(psycopg2.connect(url)) as conn:
        return conn.get_parameter_status("server_version") or "unknown"
