"""A process keeps its warehouse connections between transactions (a small window runs a dozen), and
a kept connection the server dropped meanwhile is replaced, not handed to the next task."""

from contextlib import closing

import psycopg2
import pytest

from storepipe.warehouse import db
from tests.conftest import _admin


def _backend_pid() -> int:
    with db.transaction() as cur:
        cur.execute("select pg_backend_pid()")
        return cur.fetchone()[0]


def test_the_next_transaction_reuses_the_connection(pipeline):
    assert _backend_pid() == _backend_pid()


def test_a_connection_the_server_dropped_is_replaced_after_it_idled(pipeline, monkeypatch):
    first = _backend_pid()
    with closing(_admin(pipeline.env)) as admin, admin.cursor() as cur:
        cur.execute("select pg_terminate_backend(%s)", (first,))
    # kept for longer than PING_AFTER_IDLE_S: pinged before reuse, found dead, replaced
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)
    second = _backend_pid()
    assert second != first


def test_a_connection_dropped_within_the_no_ping_interval_fails_one_transaction_only(pipeline, monkeypatch):
    """The tasks of a window follow one another within milliseconds, so they skip the ping; a server
    that drops the connection in between fails that transaction (its task re-runs), not the next."""
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 3600.0)
    first = _backend_pid()
    with closing(_admin(pipeline.env)) as admin, admin.cursor() as cur:
        cur.execute("select pg_terminate_backend(%s)", (first,))
    with pytest.raises(psycopg2.OperationalError):
        _backend_pid()
    assert _backend_pid() != first
