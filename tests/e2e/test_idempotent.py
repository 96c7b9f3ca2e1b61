"""Invariant 2 (idempotent): re-running a window, even forced, leaves the warehouse's content identical."""

from tests.helpers import query, run_windows, table_hashes


def test_rerun_and_forced_rerun_leave_identical_content(pipeline):
    windows = [pipeline.window(0), pipeline.window(1)]
    for window in windows:
        pipeline.generate(window, customers=12, orders=80)
    assert run_windows(*windows).name == "SUCCESS"
    first = table_hashes(pipeline.warehouse_url)
    assert first["analytics.fct_orders"][0] == 160

    assert run_windows(*windows).name == "SUCCESS"  # complete: nothing runs
    assert table_hashes(pipeline.warehouse_url) == first

    # forced: forget every marker of the first window, so every task of it runs again
    query(pipeline.warehouse_url, "delete from storepipe.markers where window_start = %s", (windows[0].start,))
    assert run_windows(windows[0]).name == "SUCCESS"
    assert table_hashes(pipeline.warehouse_url) == first
    tasks = query(
        pipeline.warehouse_url,
        "select count(*) from storepipe.markers where window_start = %s",
        (windows[0].start,),
    )[0][0]
    assert tasks == 11, "3 extracts + 3 loads + 4 transforms (stg_orders is ephemeral) + the publish, one marker each"
