"""dim_customers rows in -> rows out on real PostgreSQL: SCD2 versions from the change log."""

import datetime as dt

import psycopg2
import pytest

from storepipe.transform import materialize, models

UTC = dt.timezone.utc


def _build(cur, window, changes, scores=()):
    """Load a window's change log and scores by hand, then run the models that build dim_customers."""
    cur.execute("select set_config('storepipe.window_start', %s, true)", (str(window.start),))
    for row in changes:
        cur.execute("insert into store.customers values (%s, %s, %s, %s, %s, %s)", row)
    for row in scores:
        cur.execute("insert into store.customer_risk_score values (%s, %s, %s)", row)
    for name in ("stg_customers", "stg_customer_risk_score", "dim_customers"):
        materialize.materialize(cur, models.get(name), window)


@pytest.fixture
def cur(pipeline):
    conn = psycopg2.connect(pipeline.warehouse_url)
    with conn.cursor() as cursor:
        yield cursor
    conn.rollback()
    conn.close()


def _dim(cur, customer_id):
    cur.execute(
        "select customer_key, last_name, state_name, risk_score, valid_from, valid_to, is_current"
        " from analytics.dim_customers where customer_id = %s order by valid_from",
        (customer_id,),
    )
    return cur.fetchall()


def test_a_change_closes_the_old_version_and_opens_a_current_one(pipeline, cur):
    first, second = pipeline.window(0), pipeline.window(1)
    created = first.start + dt.timedelta(minutes=1)
    moved = second.start + dt.timedelta(minutes=2)
    _build(cur, first, [(7, "Ana", "Lima", "SP", created, created)], [(7, 40, created)])
    _build(cur, second, [(7, "Ana", "Souza", " rj ", created, moved)], [(7, 90, moved)])

    old, new = _dim(cur, 7)
    assert old[1:] == ("Lima", "São Paulo", 90, created.replace(tzinfo=UTC), moved.replace(tzinfo=UTC), False)
    assert new[1:3] == ("Souza", "Rio de Janeiro"), "state codes are trimmed and upper-cased"
    assert new[4:] == (moved.replace(tzinfo=UTC), dt.datetime(9999, 12, 31, tzinfo=UTC), True)


def test_windows_in_reverse_give_the_same_history_and_keys(pipeline, cur):
    first, second = pipeline.window(0), pipeline.window(1)
    created = first.start + dt.timedelta(minutes=1)
    moved = second.start + dt.timedelta(minutes=2)
    _build(cur, second, [(8, "Bia", "Souza", "RJ", created, moved)])
    only_late = _dim(cur, 8)
    assert len(only_late) == 1 and only_late[0][4] == created.replace(tzinfo=UTC), (
        "the first version seen stands from creation"
    )
    _build(cur, first, [(8, "Bia", "Lima", "SP", created, created)])
    reversed_history = _dim(cur, 8)

    cur.execute("set local time zone 'Asia/Tokyo'")
    _build(cur, first, [(9, "Bia", "Lima", "SP", created, created)])
    _build(cur, second, [(9, "Bia", "Souza", "RJ", created, moved)])
    cur.execute("set local time zone 'UTC'")
    in_order = _dim(cur, 9)
    assert [r[1:] for r in reversed_history] == [r[1:] for r in in_order]
    # keys hash (customer, instant): same instants give the same keys in any session time zone
    cur.execute("select md5('8|' || extract(epoch from %s::timestamptz)::text)::uuid", (created.replace(tzinfo=UTC),))
    assert reversed_history[0][0] == cur.fetchone()[0]
    cur.execute("select md5('9|' || extract(epoch from %s::timestamptz)::text)::uuid", (created.replace(tzinfo=UTC),))
    assert in_order[0][0] == cur.fetchone()[0], "built in a Tokyo session, keyed like in UTC"


def test_a_flagged_first_version_never_collides_with_the_next(pipeline, cur):
    """A version stamped updated before created (flagged, loaded as it is) starts at the earlier of the two,
    so the next version, updated at that creation time, gets its own key and the history stays contiguous."""
    first = pipeline.window(0)
    created, updated = first.start + dt.timedelta(minutes=3), first.start + dt.timedelta(minutes=1)
    _build(
        cur,
        first,
        [(11, "Caio", "Lima", "SP", created, updated), (11, "Caio", "Souza", "SP", created, created)],
    )
    versions = _dim(cur, 11)
    assert [(v[1], v[4], v[5], v[6]) for v in versions] == [
        ("Lima", updated.replace(tzinfo=UTC), created.replace(tzinfo=UTC), False),
        ("Souza", created.replace(tzinfo=UTC), dt.datetime(9999, 12, 31, tzinfo=UTC), True),
    ]
    assert len({v[0] for v in versions}) == 2
