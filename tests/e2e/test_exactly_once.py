"""Invariant 5 (exactly once): workers racing on the same windows without a shared scheduler write
every row once; the warehouse's per-task lock, not luigid, guarantees it."""

import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO, query, run_windows, table_hashes


def _start(*args: str) -> subprocess.Popen:
    luigi_bin = Path(sys.executable).parent / "luigi"
    return subprocess.Popen(
        [str(luigi_bin), "--module", "storepipe", *args, "--local-scheduler", "--no-lock", "--log-level", "WARNING"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_two_workers_on_the_same_window_and_overlapping_ranges(pipeline):
    windows = [pipeline.window(i) for i in range(3)]
    for window in windows:
        pipeline.generate(window, customers=10, orders=2000)

    racers = [_start("RunWindow", "--window", windows[0].label) for _ in range(2)]
    range_args = ["RangeByMinutes", "--of", "RunWindow", "--minutes-interval", "5", "--minutes-back", "100000000"]
    stop = windows[2].end.strftime("%Y-%m-%dT%H%M")
    racers += [
        _start(*range_args, "--start", windows[0].start.strftime("%Y-%m-%dT%H%M"), "--stop", stop),
        _start(*range_args, "--start", windows[1].start.strftime("%Y-%m-%dT%H%M"), "--stop", stop),
    ]
    for racer in racers:
        output, _ = racer.communicate(timeout=240)
        assert racer.returncode == 0, output

    url = pipeline.warehouse_url
    for table, key in [
        ("store.orders", "order_id"),
        ("analytics.fct_orders", "order_id"),
        ("staging.stg_customers", "customer_id"),
    ]:
        duplicates = query(url, f"select {key}, window_start from {table} group by 1, 2 having count(*) > 1")
        assert duplicates == [], table
    assert query(url, "select count(*) from store.orders") == [(6000,)]
    assert query(url, "select count(*) from storepipe.markers") == [(11 * 3,)]  # 11 markers a window

    raced = table_hashes(url)
    pipeline.new_warehouse()
    assert run_windows(*windows).name == "SUCCESS"
    assert table_hashes(pipeline.warehouse_url) == raced, "the race left what one worker leaves"


def _backfill(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "storepipe"), "backfill", *args, "--local-scheduler"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_forced_backfills_racing_each_other_and_a_normal_run_all_succeed(pipeline):
    windows = [pipeline.window(i) for i in range(2)]
    for window in windows:
        pipeline.generate(window, customers=10, orders=3000)
    assert run_windows(*windows).name == "SUCCESS"
    expected = table_hashes(pipeline.warehouse_url)
    names = {name for (name,) in query(pipeline.warehouse_url, "select distinct task_name from storepipe.markers")}
    span = ["--start", windows[0].label, "--end", f"{windows[-1].end:%Y-%m-%dT%H:%M}"]

    # two forced rebuilds and a normal backfill of the same windows, all at once
    racers = [_backfill(*span, "--force"), _backfill(*span, "--force"), _backfill(*span)]
    outputs = [racer.communicate(timeout=600)[0] for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0, 0], "\n---\n".join(outputs)
    assert table_hashes(pipeline.warehouse_url) == expected, "rows replaced, never doubled"
    for window in windows:
        present = {
            name
            for (name,) in query(
                pipeline.warehouse_url,
                "select task_name from storepipe.markers where window_start = %s",
                (window.start,),
            )
        }
        assert present == names, "no window marked done above a missing marker"
    assert query(pipeline.warehouse_url, "select count(*) from storepipe.task_failures") == [(0,)]
