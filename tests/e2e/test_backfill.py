"""Backfills: `storepipe backfill` fills a range in small builds and then has nothing to do; it forces,
reverses and limits; it fails on a failed window and lists missing and failed windows without running;
Luigi's RangeByMinutes and the project's RangeWindows drive RunWindow from the `luigi` command."""

import datetime as dt
import re

from storepipe.cli import main
from storepipe.tasks import RunWindow, completeness
from storepipe.transform import versions
from tests.helpers import luigi_cli, query, storepipe_cli, table_hashes

LUIGI_MINUTE = "%Y-%m-%dT%H%M"


def span(windows) -> list[str]:
    return ["--start", windows[0].label, "--end", windows[-1].end.strftime("%Y-%m-%dT%H:%M")]


def published(pipeline, windows) -> set:
    rows = query(
        pipeline.warehouse_url,
        "select window_start from storepipe.markers where task_name = 'publish' and window_start = any(%s)",
        ([w.start for w in windows],),
    )
    return {start for (start,) in rows}


def loaded_rows(pipeline, windows) -> int:
    rows = query(
        pipeline.warehouse_url,
        "select coalesce(sum(row_count), 0) from storepipe.markers where task_name like 'load:%%'"
        " and window_start = any(%s)",
        ([w.start for w in windows],),
    )
    return rows[0][0]


def test_backfill_fills_the_range_in_small_builds_then_has_nothing_to_do(pipeline):
    windows = [pipeline.window(i) for i in range(4)]
    for window in windows[:3]:  # the last window has no source data: an empty window completes too
        pipeline.generate(window, customers=4, orders=15)

    run = storepipe_cli("backfill", *span(windows), "--local-scheduler", "--windows-per-build", "2")
    assert run.returncode == 0, run.stderr
    assert published(pipeline, windows) == {w.start for w in windows}
    assert query(pipeline.warehouse_url, "select count(*) from analytics.fct_orders")[0][0] == 45
    # progress after each build of two windows, then Luigi's summary of every build at once
    progress = re.findall(r"backfill: (\d)/4 windows done, ([\d,]+) rows loaded, \S+ elapsed", run.stderr)
    assert [done for done, _ in progress] == ["2", "4"]
    assert progress[-1][1] == f"{loaded_rows(pipeline, windows):,}"
    assert "===== Luigi Execution Summary =====" in run.stderr
    tasks = 4 * sum(len(family.tasks) for family in completeness.families(RunWindow))
    assert f"Scheduled {tasks} tasks of which:\n* {tasks} ran successfully" in run.stderr, "one summary, both builds"
    assert "4 of 4 windows done" in run.stdout

    again = storepipe_cli("backfill", *span(windows), "--local-scheduler")
    assert again.returncode == 0, again.stderr
    assert "all 4 windows complete, nothing to do" in again.stdout


def test_a_failed_window_fails_the_backfill_and_is_listed_by_dry_run_and_status(pipeline):
    windows = [pipeline.window(i) for i in range(3)]
    for window in windows:
        pipeline.generate(window, customers=3, orders=10)
    bad = windows[1]
    # an orders file of nothing but bad rows: far past the quarantine limit, so ExtractOrders fails
    pipeline.s3().put_object(
        Bucket=pipeline.env["ORDERS_BUCKET"],
        Key=f"orders/{bad.start:%Y/%m/%d/%H/%M}/zz-broken.csv",
        Body=b"order_id,customer_id,item_id,item_name,delivered_on\n" + b"not-a-uuid,x,y,z,never\n" * 50,
    )

    run = storepipe_cli("backfill", *span(windows[:2]), "--local-scheduler")
    assert run.returncode == 1
    assert f"storepipe: window {bad.label} failed: extract:orders:" in run.stderr
    assert published(pipeline, windows) == {windows[0].start}
    markers_before = query(pipeline.warehouse_url, "select count(*), max(done_at) from storepipe.markers")

    dry = storepipe_cli("backfill", *span(windows), "--dry-run", "--local-scheduler")
    assert dry.returncode == 0, dry.stderr
    assert "3 windows, 1 complete, 2 to run" in dry.stdout
    failed_line = rf"^  {bad.label}  failed   extract:orders: 50 of 60 orders rows were rejected"
    assert re.search(failed_line, dry.stdout, re.M), dry.stdout
    assert re.search(rf"^  {windows[2].label}  missing$", dry.stdout, re.M), dry.stdout
    assert windows[0].label not in dry.stdout.split("\n", 1)[1], "complete windows are not listed"
    assert query(pipeline.warehouse_url, "select count(*), max(done_at) from storepipe.markers") == markers_before

    status = storepipe_cli("status", *span(windows))
    assert status.returncode == 0, status.stderr
    lines = {line.split()[0]: line for line in status.stdout.splitlines()[1:-1]}
    customers, orders = (
        _marker_rows(pipeline, windows[0], "load:customers"),
        _marker_rows(pipeline, windows[0], "load:orders"),
    )
    assert re.match(rf"  {windows[0].label}  done +(\d+)/\1 +{customers} +{orders} ", lines[windows[0].label])
    assert "failed" in lines[bad.label] and "extract:orders:" in lines[bad.label]
    assert re.match(rf"  {windows[2].label}  missing +0/\d+ +- +- ", lines[windows[2].label])
    assert status.stdout.splitlines()[-1] == "3 windows: 1 done, 1 failed, 1 missing, 0 open"


def test_status_over_more_than_a_day_shows_each_run_of_windows_in_one_state(pipeline, capsys):
    first = pipeline.window(0)
    days = first.range_to(first.start + dt.timedelta(days=2))
    names = sorted({name for family in completeness.families(RunWindow) for name in family.marker_names()})
    current = versions.current()  # on the current versions: nothing stale to say
    query(
        pipeline.warehouse_url,
        "insert into storepipe.markers (task_name, window_start, task_id, row_count, version)"
        " select n.name, start, 'seeded', 7, n.version from unnest(%s::text[], %s::text[]) as n (name, version)"
        " cross join unnest(%s::timestamp[]) as start",
        (names, [current[n].fingerprint if n in current else None for n in names], [w.start for w in days]),
    )
    hole, bad = days[100], days[400]
    query(pipeline.warehouse_url, "delete from storepipe.markers where window_start = %s", (hole.start,))
    query(
        pipeline.warehouse_url,
        "delete from storepipe.markers where task_name = 'extract:orders' and window_start = %s",
        (bad.start,),
    )
    query(
        pipeline.warehouse_url,
        "insert into storepipe.task_failures (task_name, window_start, task_id, error)"
        " values ('extract:orders', %s, 'ExtractOrders(test)', 'the bucket said no')",
        (bad.start,),
    )

    assert main(["status", *span(days)]) == 0
    lines = capsys.readouterr().out.splitlines()
    table = [line for line in lines if re.match(r"  \d{4}-", line)]
    minute = "%Y-%m-%dT%H:%M"
    assert table[0] == f"  {days[0].label} .. {hole.label}  done     100 windows"
    assert re.match(rf"  {hole.label}  missing +0/{len(names)} +- +- ", table[1]), table[1]
    assert table[2] == f"  {days[101].label} .. {bad.label}  done     299 windows"
    assert re.match(rf"  {bad.label}  failed +{len(names) - 1}/{len(names)} +7 +7 .*the bucket said no$", table[3])
    assert table[4] == f"  {days[401].label} .. {days[-1].end:{minute}}  done     175 windows"
    assert len(table) == 5
    assert lines[-1] == "576 windows: 574 done, 1 failed, 1 missing, 0 open"

    # a day or less lists every window, with its rows
    assert main(["status", *span(days[:288])]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if re.match(r"  \d{4}-", line)]
    assert len(listed) == 288 and " .. " not in "".join(listed)


def _marker_rows(pipeline, window, task_name) -> int:
    return query(
        pipeline.warehouse_url,
        "select row_count from storepipe.markers where task_name = %s and window_start = %s",
        (task_name, window.start),
    )[0][0]


def test_force_reruns_complete_windows_and_replaces_their_rows(pipeline):
    windows = [pipeline.window(0), pipeline.window(1)]
    for window in windows:
        pipeline.generate(window, customers=5, orders=20)
    assert storepipe_cli("backfill", *span(windows), "--local-scheduler").returncode == 0
    before = table_hashes(pipeline.warehouse_url)
    first_done = query(pipeline.warehouse_url, "select max(done_at) from storepipe.markers")[0][0]

    forced = storepipe_cli("backfill", *span(windows), "--force", "--local-scheduler")
    assert forced.returncode == 0, forced.stderr
    assert "2 of 2 windows to run" in forced.stderr
    assert table_hashes(pipeline.warehouse_url) == before, "replaced, never added to"
    rerun = query(
        pipeline.warehouse_url,
        "select count(*), min(done_at) from storepipe.markers where window_start = any(%s)",
        ([w.start for w in windows],),
    )[0]
    assert rerun[0] >= 2 * len(RunWindow(window=windows[0]).marker_names()) and rerun[1] > first_done


def test_reverse_with_a_task_limit_runs_the_newest_missing_window_first(pipeline):
    windows = [pipeline.window(i) for i in range(3)]
    run = storepipe_cli("backfill", *span(windows), "--reverse", "--task-limit", "1", "--local-scheduler")
    assert run.returncode == 0, run.stderr
    assert published(pipeline, windows) == {windows[2].start}
    assert "2 more windows are beyond the task limit" in run.stdout


def test_luigi_range_by_minutes_drives_run_window_over_an_old_range(pipeline):
    windows = [pipeline.window(0), pipeline.window(1)]
    for window in windows:
        pipeline.generate(window, customers=3, orders=10)
    result = luigi_cli(
        "RangeByMinutes",
        "--of",
        "RunWindow",
        "--minutes-interval",
        "5",
        "--start",
        windows[0].start.strftime(LUIGI_MINUTE),
        "--stop",
        windows[-1].end.strftime(LUIGI_MINUTE),
        "--local-scheduler",
    )
    assert result.returncode == 0, result.stderr
    assert published(pipeline, windows) == {w.start for w in windows}, "luigi.cfg reaches past the one-day default"


def test_range_windows_repairs_a_task_missing_below_a_complete_window(pipeline):
    window = pipeline.window(0)
    pipeline.generate(window, customers=4, orders=12)
    args = [
        "RangeWindows",
        "--start",
        window.label,
        "--stop",
        window.end.strftime("%Y-%m-%dT%H:%M"),
        "--local-scheduler",
    ]
    assert luigi_cli(*args).returncode == 0
    before = table_hashes(pipeline.warehouse_url)
    query(
        pipeline.warehouse_url,
        "delete from storepipe.markers where task_name = 'load:orders' and window_start = %s",
        (window.start,),
    )
    assert RunWindow(window=window).complete(), "Luigi alone would look no further than RunWindow"

    repaired = luigi_cli(*args)
    assert repaired.returncode == 0, repaired.stderr
    assert _marker_rows(pipeline, window, "load:orders") == 12
    assert table_hashes(pipeline.warehouse_url) == before


def test_a_bad_range_is_one_line_before_any_work(pipeline):
    bad = storepipe_cli("backfill", "--start", "2024-01-01T10:02", "--end", "2024-01-01T11:00", "--local-scheduler")
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "storepipe: window 2024-01-01T10:02:00 is not on a 5-minute boundary (--start); use 2024-01-01T10:00"
    )
    future = storepipe_cli("backfill", "--start", "2024-01-01T10:00", "--end", "2999-01-01T00:00")
    assert future.returncode == 2
    assert "not closed yet (--end)" in future.stderr and len(future.stderr.strip().splitlines()) == 1
    assert query(pipeline.warehouse_url, "select count(*) from storepipe.markers")[0][0] == 0
