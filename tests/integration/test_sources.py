"""Each source streams one window: customers from the DB, orders from S3 over HTTP, scores from the API."""

import datetime as dt
import time
import uuid

import psycopg2.extensions
import pytest
import requests

from storepipe.errors import SourceUnavailable
from storepipe.rows import Block, Rejected
from storepipe.sources import customer_db, orders_bucket, risk_api
from storepipe.sources.orders_bucket import OPEN_AHEAD
from storepipe.window import Window
from tests.helpers import query


def test_customers_of_the_window_only(pipeline):
    window = pipeline.window(0)
    counts = pipeline.generate(window, customers=8, orders=10)
    # customers planted odd by other tests may be updated into this window: those come with a flag
    rows = [r for r in customer_db.iter_customers(window) if not isinstance(r, Rejected)]
    assert len(rows) >= counts["customers_new"] == 8
    assert all(window.start <= row[5] < window.end for row in rows)


def test_orders_stream_with_bad_rows_set_aside(pipeline):
    window = pipeline.window(0)
    counts = pipeline.generate(window, customers=3, orders=30)
    key = f"orders/{window.start:%Y/%m/%d/%H/%M}/zz-broken.csv"
    pipeline.s3().put_object(
        Bucket=pipeline.env["ORDERS_BUCKET"],
        Key=key,
        Body=b"order_id,customer_id,item_id,item_name,delivered_on\nnope,1,2,3,4\n",
    )
    rows = list(orders_bucket.iter_orders(window))
    good = sum(r.rows if isinstance(r, Block) else 1 for r in rows if not isinstance(r, Rejected))
    bad = [r for r in rows if isinstance(r, Rejected)]
    assert good == counts["orders"] == 30
    assert len(bad) == 1 and bad[0].location.endswith(f"{key}:2") and "order_id" in bad[0].reason


def test_risk_scores_page_through_the_api(pipeline, monkeypatch):
    window = pipeline.window(0)
    pipeline.generate(window, customers=25, orders=5)
    monkeypatch.setattr(risk_api.config.risk_api(), "page_size", 7)
    scores = list(risk_api.iter_risk_scores(window))
    changed = query(
        pipeline.env["SOURCE_DB_ADMIN_URL"],
        "select customer_id from customers where datetime_updated >= %(window_start)s"
        " and datetime_updated < %(window_end)s",
        window.sql_params(),
    )
    assert sorted(s[0] for s in scores) == sorted(r[0] for r in changed)
    assert all(1 <= s[1] <= 100 for s in scores)
    assert scores == list(risk_api.iter_risk_scores(window)), "deterministic for a window"


def test_the_risk_api_keeps_its_source_session_and_answers_after_the_database_ended_it(pipeline):
    window = pipeline.window(0)
    pipeline.generate(window, customers=5, orders=5)
    scores = list(risk_api.iter_risk_scores(window))
    reader = psycopg2.extensions.parse_dsn(pipeline.env["SOURCE_DB_URL"])["user"]
    ((ended,),) = query(
        pipeline.env["SOURCE_DB_ADMIN_URL"],
        "select count(pg_terminate_backend(pid)) from pg_stat_activity where usename = %s and datname = 'source'",
        (reader,),
    )
    assert ended >= 1, "the API answered on a session it keeps for the next request"
    params = {"start": window.start.isoformat(), "end": window.end.isoformat(), "limit": 1000}
    answer = requests.get(pipeline.env["RISK_API_URL"].rstrip("/") + risk_api.PATH, params=params, timeout=10)
    assert answer.status_code == 200, "a session the database ended is replaced, not answered with 503"
    assert [item["customer_id"] for item in answer.json()["items"]] == [s[0] for s in scores]


def test_a_windows_objects_are_listed_in_one_request_exactly_as_its_minutes_file_them(pipeline):
    window = pipeline.window(0)
    at = lambda minute: f"orders/{window.start + dt.timedelta(minutes=minute):%Y/%m/%d/%H/%M}"  # noqa: E731
    inside = [f"{at(0)}/a.csv", f"{at(0)}/sub/b.csv", f"{at(2)}/c.csv.gz", f"{at(4)}/d.csv", f"{at(4)}/_SUCCESS"]
    outside = [f"{at(-1)}/before.csv", f"{at(0)}-beside.csv", f"{at(0)}", f"{at(5)}/after.csv", "orders/zz.csv"]
    for key in inside + outside:
        pipeline.s3().put_object(Bucket=pipeline.env["ORDERS_BUCKET"], Key=key, Body=b"")
    requests = []

    def count(**kwargs):
        requests.append(kwargs)

    client = orders_bucket.s3_client()
    client.meta.events.register("before-call.s3.ListObjectsV2", count)
    try:
        assert orders_bucket.list_keys(window) == sorted(inside)
    finally:
        client.meta.events.unregister("before-call.s3.ListObjectsV2", count)
    assert len(requests) == 1, "one listing for the window's five minutes"


def test_windows_listed_together_cost_one_request_and_see_the_bucket_as_of_the_listing(pipeline):
    """A backfill's build lists its windows' objects once (orders_bucket.listed_together): each window
    gets exactly what its own listing would, and an object filed after the listing is the next
    listing's (a late file, for the backfill's look-back)."""
    windows = [pipeline.window(n) for n in range(3)]
    for window in windows:
        pipeline.generate(window, customers=2, orders=12)
    own = {window: orders_bucket.list_objects(window) for window in windows}
    requests = []

    def count(**kwargs):
        requests.append(kwargs)

    client = orders_bucket.s3_client()
    client.meta.events.register("before-call.s3.ListObjectsV2", count)
    late = f"orders/{windows[1].start + dt.timedelta(minutes=3):%Y/%m/%d/%H/%M}/late.csv"
    try:
        with orders_bucket.listed_together(windows):
            pipeline.s3().put_object(Bucket=pipeline.env["ORDERS_BUCKET"], Key=late, Body=b"")
            assert {window: orders_bucket.list_objects(window) for window in windows} == own
        assert len(requests) == 1, "one listing for the three windows"
        assert late in orders_bucket.list_keys(windows[1]), "after the block, a window lists for itself"
    finally:
        client.meta.events.unregister("before-call.s3.ListObjectsV2", count)

    # windows far apart are listed one by one (a listing of the span between them would read it all)
    requests.clear()
    client.meta.events.register("before-call.s3.ListObjectsV2", count)
    try:
        with orders_bucket.listed_together([windows[0], Window(windows[0].start + dt.timedelta(days=1), 5)]):
            pass
    finally:
        client.meta.events.unregister("before-call.s3.ListObjectsV2", count)
    assert requests == []


def test_windows_listed_together_while_the_bucket_is_down_each_list_on_their_own(pipeline, monkeypatch):
    windows = [pipeline.window(0), pipeline.window(1)]
    monkeypatch.setenv("ORDERS_BUCKET", "no-such-bucket")
    with orders_bucket.listed_together(windows), pytest.raises(SourceUnavailable, match="no-such-bucket"):
        orders_bucket.list_objects(windows[0])


def test_the_next_objects_are_requested_while_one_is_read(pipeline):
    """A window of many small objects waits for S3's first byte a few times, not once an object: the
    next OPEN_AHEAD objects' GETs are under way while one is read, and no more than those."""
    window = pipeline.window(0)
    folder = f"orders/{window.start:%Y/%m/%d/%H/%M}"
    keys = [f"{folder}/part-{n}.csv" for n in range(OPEN_AHEAD + 3)]
    for key in keys:
        row = f"{uuid.uuid4()},1,{uuid.uuid4()},an item,{window.start:%Y-%m-%d %H:%M:%S}\n"
        body = "order_id,customer_id,item_id,item_name,delivered_on\n" + row
        pipeline.s3().put_object(Bucket=pipeline.env["ORDERS_BUCKET"], Key=key, Body=body.encode())
    requested = []

    def record(params, **kwargs):
        requested.append(params["Key"])

    client = orders_bucket.s3_client()
    client.meta.events.register("before-parameter-build.s3.GetObject", record)
    try:
        rows = orders_bucket.iter_orders(window)
        first = next(rows)
        deadline = time.monotonic() + 10
        while len(requested) < OPEN_AHEAD + 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        # the object being read, and the next OPEN_AHEAD
        assert sorted(requested) == keys[: OPEN_AHEAD + 1]
        rest = list(rows)
    finally:
        client.meta.events.unregister("before-parameter-build.s3.GetObject", record)
    assert sorted(requested) == keys, "each object requested once"
    assert sum(r.rows if isinstance(r, Block) else 1 for r in [first, *rest]) == len(keys)
