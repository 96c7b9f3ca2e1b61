"""Surrogate keys never collide with source data: a source customer -1 leaves the unknown-customer
member (customer_key 0, no customer_id) in place, so later windows with unknown customers still pass."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.helpers import query, run_windows

HEADER = "order_id,customer_id,item_id,item_name,delivered_on\n"
UNKNOWN = "00000000-0000-0000-0000-000000000000"


def _order(pipeline, window, customer: int) -> str:
    order = str(uuid.uuid4())
    when = window.start + dt.timedelta(minutes=3)
    body = f"{HEADER}{order},{customer},{uuid.uuid4()},mug,{when:%Y-%m-%d %H:%M:%S}\n"
    key = f"orders/{when:%Y/%m/%d/%H/%M}/{order}.csv"
    pipeline.s3().put_object(Bucket=pipeline.env["ORDERS_BUCKET"], Key=key, Body=body.encode())
    return order


def _key_of(pipeline, order: str) -> str:
    [(key,)] = query(
        pipeline.warehouse_url, "select customer_key::text from analytics.fct_orders where order_id = %s", (order,)
    )
    return key


def test_a_source_customer_minus_one_never_replaces_the_unknown_member(pipeline):
    first, later = pipeline.window(0), pipeline.window(1)
    when = first.start + dt.timedelta(minutes=1)
    query(
        pipeline.env["SOURCE_DB_ADMIN_URL"],
        "insert into customers values (-1, 'Minus', 'One', 'RJ', %s, %s)"
        " on conflict (customer_id) do update set datetime_created = excluded.datetime_created,"
        " datetime_updated = excluded.datetime_updated",
        (when, when),
    )
    try:
        minus_one, stranger = _order(pipeline, first, -1), _order(pipeline, first, 987_654_321)
        assert run_windows(first).name == "SUCCESS"
        assert _key_of(pipeline, stranger) == UNKNOWN
        assert _key_of(pipeline, minus_one) != UNKNOWN, "customer -1 is a customer like any other"
        members = query(
            pipeline.warehouse_url,
            "select customer_id from analytics.dim_customers where customer_key = %s",
            (UNKNOWN,),
        )
        assert members == [(None,)]

        # a later window with an unknown customer still passes its audit
        another = _order(pipeline, later, 987_654_322)
        assert run_windows(later).name == "SUCCESS"
        assert _key_of(pipeline, another) == UNKNOWN
    finally:
        query(pipeline.env["SOURCE_DB_ADMIN_URL"], "delete from customers where customer_id = -1")
