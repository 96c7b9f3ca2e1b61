"""Invariant 4 (order-independent): windows processed in any order, re-run or in parallel converge
to the same marts, SCD2 history included; facts follow customers that arrive late."""

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from tests.helpers import run_windows, table_hashes

MARTS = ("analytics.dim_customers", "analytics.fct_orders")
WINDOWS = 4


def _marts(url: str) -> dict:
    return {table: value for table, value in table_hashes(url).items() if table in MARTS}


def _reference(pipeline) -> dict:
    """Land the windows once (later orders replay the same lake copies) and return the in-order marts."""
    windows = [pipeline.window(i) for i in range(WINDOWS)]
    for window in windows:
        pipeline.generate(window, customers=10, orders=40)
    for window in windows:
        assert run_windows(window).name == "SUCCESS"
    return _marts(pipeline.warehouse_url)


def test_in_order_reversed_and_parallel_converge(pipeline):
    expected = _reference(pipeline)
    windows = [pipeline.window(i) for i in range(WINDOWS)]
    dims = expected["analytics.dim_customers"][0]
    assert dims > 10 * WINDOWS, "some customers have several versions"

    pipeline.new_warehouse()
    for window in reversed(windows):
        assert run_windows(window).name == "SUCCESS"
    assert _marts(pipeline.warehouse_url) == expected

    pipeline.new_warehouse()
    assert run_windows(*windows, workers=2).name == "SUCCESS"
    assert _marts(pipeline.warehouse_url) == expected


def test_an_order_waits_at_the_unknown_customer_then_is_repointed(pipeline):
    from tests.helpers import query

    _reference(pipeline)
    windows = [pipeline.window(i) for i in range(WINDOWS)]
    # the last window alone: orders of customers created in earlier windows are not known yet
    pipeline.new_warehouse()
    assert run_windows(windows[-1]).name == "SUCCESS"
    unknown = query(
        pipeline.warehouse_url,
        "select count(*) from analytics.fct_orders where customer_key = '00000000-0000-0000-0000-000000000000'",
    )[0][0]
    assert unknown > 0
    assert run_windows(*windows[:-1]).name == "SUCCESS"
    still_unknown = query(
        pipeline.warehouse_url,
        "select count(*) from analytics.fct_orders as f join staging.stg_customers as s using (customer_id)"
        " where f.customer_key = '00000000-0000-0000-0000-000000000000'",
    )[0][0]
    assert still_unknown == 0, "every order of a customer now known points at a real version"


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_order_with_reruns_converges(pipeline, data):
    if not hasattr(pipeline, "expected_marts"):
        pipeline.expected_marts = _reference(pipeline)
    windows = [pipeline.window(i) for i in range(WINDOWS)]
    order = data.draw(st.permutations(windows), label="order")
    reruns = data.draw(st.lists(st.sampled_from(windows), max_size=2), label="forced re-runs")
    pipeline.new_warehouse()
    for window in order:
        assert run_windows(window).name == "SUCCESS"
    for window in reruns:
        from tests.helpers import query

        query(pipeline.warehouse_url, "delete from storepipe.markers where window_start = %s", (window.start,))
        assert run_windows(window).name == "SUCCESS"
    assert _marts(pipeline.warehouse_url) == pipeline.expected_marts
