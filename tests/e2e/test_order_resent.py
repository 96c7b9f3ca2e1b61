"""An order re-sent in a later window has one fact, the latest delivery, whatever order windows run in
(README "When data is bad"); both windows complete, even when its customer changes in the later one."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from tests.helpers import query, run_windows, table_hashes

HEADER = "order_id,customer_id,item_id,item_name,delivered_on\n"
MARTS = ("analytics.dim_customers", "analytics.fct_orders")


def _plant(pipeline, window, name: str, rows: list[tuple]) -> None:
    key = f"orders/{window.start + dt.timedelta(minutes=1):%Y/%m/%d/%H/%M}/{name}"
    body = HEADER + "".join(",".join(str(v) for v in row) + "\n" for row in rows)
    pipeline.s3().put_object(Bucket=pipeline.env["ORDERS_BUCKET"], Key=key, Body=body.encode())


def _marts(url: str) -> dict:
    return {table: value for table, value in table_hashes(url).items() if table in MARTS}


def _forget(pipeline, window) -> None:
    query(pipeline.warehouse_url, "delete from storepipe.markers where window_start = %s", (window.start,))


def test_an_order_resent_later_while_its_customer_changes_has_one_fact(pipeline):
    first, later = pipeline.window(0), pipeline.window(1)
    customer = 1_500_000_000 + secrets.randbelow(100_000_000)
    # the customer is created in the first window and changed in the later one (the source keeps the latest)
    query(
        pipeline.env["SOURCE_DB_ADMIN_URL"],
        "insert into customers values (%s, 'Ana', 'Souza', 'SP', %s, %s)",
        (customer, first.start + dt.timedelta(seconds=10), later.start + dt.timedelta(seconds=30)),
    )
    resent, other = uuid.uuid4(), uuid.uuid4()
    when_first = first.start + dt.timedelta(minutes=1)
    when_later = later.start + dt.timedelta(minutes=2)
    _plant(pipeline, first, "a.csv", [(resent, customer, uuid.uuid4(), "lamp", when_first)])
    _plant(pipeline, first, "b.csv", [(other, customer, uuid.uuid4(), "chair", when_first)])
    _plant(pipeline, later, "a.csv", [(resent, customer, uuid.uuid4(), "lamp (re-sent)", when_later)])

    assert run_windows(first).name == "SUCCESS"
    assert run_windows(later).name == "SUCCESS", "the later window publishes though the order is in both"
    facts = query(
        pipeline.warehouse_url,
        "select item_name, window_start from analytics.fct_orders where order_id = %s",
        (str(resent),),
    )
    assert facts == [("lamp (re-sent)", later.start)], "one fact: the latest delivery"
    expected = _marts(pipeline.warehouse_url)
    # the loser stays loaded, and the first window's audit lists it as superseded
    assert query(pipeline.warehouse_url, "select count(*) from store.orders where order_id = %s", (str(resent),)) == [
        (2,)
    ]
    forced = [first, later]
    for window in forced:  # forced re-runs, each order of the two
        _forget(pipeline, window)
        assert run_windows(window).name == "SUCCESS"
        assert _marts(pipeline.warehouse_url) == expected
    for window in reversed(forced):
        _forget(pipeline, window)
        assert run_windows(window).name == "SUCCESS"
        assert _marts(pipeline.warehouse_url) == expected
    [(status, failing)] = query(
        pipeline.warehouse_url,
        "select status, failing_rows from storepipe.check_results"
        " where window_start = %s and check_name = 'fct_orders__orders_superseded_by_other_windows'",
        (first.start,),
    )
    assert (status, failing) == ("warn", 1)

    # windows in the other order, into an empty warehouse: the same facts
    pipeline.new_warehouse()
    assert run_windows(later).name == "SUCCESS"
    assert run_windows(first).name == "SUCCESS"
    assert _marts(pipeline.warehouse_url) == expected
