"""Each source streams one window: customers from the DB, orders from S3 over HTTP, scores from the API."""

import datetime as dt

from storepipe.rows import Block, Rejected
from storepipe.sources import customer_db, orders_bucket, risk_api
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
