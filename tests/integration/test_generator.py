"""The source data generator: deterministic per window, and a follow mode that keeps writing."""

from storepipe.simulator import datagen
from storepipe.sources.orders_bucket import list_keys
from storepipe.window import Window, utcnow
from tests.helpers import query


def _customers(pipeline, window):
    return query(
        pipeline.env["SOURCE_DB_ADMIN_URL"],
        "select * from customers where datetime_updated >= %(window_start)s and datetime_updated < %(window_end)s"
        " order by customer_id",
        window.sql_params(),
    )


def test_generating_a_window_twice_gives_the_same_source_data(pipeline):
    window = pipeline.window(0)
    first = pipeline.generate(window, customers=7, orders=33)
    rows, keys = _customers(pipeline, window), list_keys(window)
    bodies = [pipeline.s3().get_object(Bucket=pipeline.env["ORDERS_BUCKET"], Key=k)["Body"].read() for k in keys]
    assert pipeline.generate(window, customers=7, orders=33) == first
    assert _customers(pipeline, window) == rows
    assert [
        pipeline.s3().get_object(Bucket=pipeline.env["ORDERS_BUCKET"], Key=k)["Body"].read() for k in keys
    ] == bodies


def test_follow_writes_into_the_current_window(pipeline):
    totals = datagen.follow(
        customers=2,
        orders=5,
        every_s=1.1,
        batches=2,
        source_admin_url=pipeline.env["SOURCE_DB_ADMIN_URL"],
        s3_endpoint_url=pipeline.env["S3_ENDPOINT_URL"],
        bucket=pipeline.env["ORDERS_BUCKET"],
    )
    assert totals.get("orders", 0) >= 10, totals
    now = utcnow()
    current = Window.of(now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0), 5)
    recent = list_keys(current) + list_keys(Window(current.start - (current.end - current.start), 5))
    assert recent, "follow files its orders under the current minutes"
