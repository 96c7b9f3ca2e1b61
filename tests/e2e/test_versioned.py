"""Invariant 13 (versioned): a marker records the version of the SQL that built it; `storepipe plan`
finds the windows another version built, and `--apply` rebuilds exactly those, and only the tasks at
or below the change."""

import datetime as dt
import time

import luigi
import pytest

from storepipe.cli import main
from storepipe.ops import plan
from storepipe.transform import versions
from storepipe.warehouse import db
from tests.helpers import REPO, ModelFiles, query, run_windows, table_hashes

UPPER = ("trim(item_name) as item_name", "upper(trim(item_name)) as item_name")


@pytest.fixture
def files(pipeline, tmp_path, monkeypatch):
    yield ModelFiles(tmp_path, monkeypatch)
    monkeypatch.undo()
    versions.forget()


def _built(pipeline, files, count=2):
    windows = [pipeline.window(i) for i in range(count)]
    for window in windows:
        pipeline.generate(window, customers=4, orders=15)
    assert run_windows(*windows).name == "SUCCESS"
    return windows


def _markers(pipeline) -> dict[tuple[str, dt.datetime], tuple]:
    rows = query(pipeline.warehouse_url, "select task_name, window_start, done_at, version from storepipe.markers")
    return {(name, start): (done_at, version) for name, start, done_at, version in rows}


def _range(windows) -> list[str]:
    return ["--start", windows[0].label, "--end", f"{windows[-1].end:%Y-%m-%dT%H:%M}"]


def _plan(capsys, *args) -> tuple[int, str, str]:
    code = main(["plan", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_changed_staging_model_rebuilds_its_windows_and_downstream_only(pipeline, files, capsys):
    windows = _built(pipeline, files)
    before = _markers(pipeline)
    assert all(version for (name, _), (_, version) in before.items() if name.startswith(("transform:", "publish")))

    files.edit("transforms/staging/stg_orders", *UPPER)
    code, out, _ = _plan(capsys, *_range(windows))
    assert code == 0
    assert "stg_orders changed: 2 windows stale; downstream: fct_orders (2), publish (PublishMarts) (2)" in out
    assert "-    trim(item_name) as item_name ," not in out  # the diff is of normalized lines
    assert "-trim ( item_name ) as item_name ," in out and "+upper ( trim ( item_name ) ) as item_name ," in out
    assert "stg_customers" not in out and "dim_customers" not in out, "nothing else is stale"

    code, out, err = _plan(capsys, *_range(windows), "--apply", "--local-scheduler")
    assert code == 0, err
    assert "plan --apply: 2/2 windows done" in err and "2 of 2 windows rebuilt" in out
    after = _markers(pipeline)
    rebuilt = {key for key in before if after[key][0] != before[key][0]}
    # stg_orders is ephemeral (inlined into fct_orders): it has no marker of its own to rebuild
    expected = {(name, w.start) for w in windows for name in ("transform:fct_orders", "publish")}
    assert rebuilt == expected, "extracts, loads, stg_customers, stg_customer_risk_score, dim_customers untouched"
    current = versions.current()
    assert all(after[key][1] == current[key[0]].fingerprint for key in after if key[0] in current)
    assert "nothing to rebuild" in _plan(capsys, *_range(windows))[1]

    # the marts equal a fresh build with the new SQL
    marts = {t: h for t, h in table_hashes(pipeline.warehouse_url).items() if t.split(".")[0] != "store"}
    pipeline.new_warehouse()
    assert run_windows(*windows).name == "SUCCESS"
    assert {t: h for t, h in table_hashes(pipeline.warehouse_url).items() if t in marts} == marts


def test_a_comment_is_no_change_and_a_mart_change_rebuilds_only_publish(pipeline, files, capsys):
    windows = _built(pipeline, files)
    files.edit("transforms/staging/stg_orders", "with\n", "-- reformatted, no change\nwith\n\n\n")
    code, out, _ = _plan(capsys, *_range(windows))
    assert code == 0 and "nothing to rebuild" in out

    files.edit("transforms/marts/fct_orders", " orders.item_name,\n", " lower(orders.item_name) as item_name,\n")
    code, out, err = _plan(capsys, *_range(windows))
    assert code == 0, err
    assert "fct_orders changed: 2 windows stale; downstream: publish (PublishMarts) (2)" in out
    before = _markers(pipeline)
    code, out, err = _plan(capsys, *_range(windows), "--apply", "--local-scheduler")
    assert code == 0, err
    after = _markers(pipeline)
    rebuilt = {key for key in before if after[key][0] != before[key][0]}
    # PublishMarts runs every check again; dim_customers, on its current version, keeps its rows
    publish = ("transform:fct_orders", "publish")
    assert rebuilt == {(name, w.start) for w in windows for name in publish}
    names = query(pipeline.warehouse_url, "select distinct item_name from analytics.fct_orders")
    assert names and all(name == name.lower() for (name,) in names)


def test_a_forward_only_change_keeps_old_windows_and_new_ones_use_it(pipeline, files, capsys):
    windows = _built(pipeline, files)
    files.edit(
        "transforms/staging/stg_orders",
        "-- materialized: ephemeral",
        "-- changes: forward-only\n-- materialized: ephemeral",
    )
    files.edit("transforms/staging/stg_orders", *UPPER)
    before = _markers(pipeline)
    code, out, err = _plan(capsys, *_range(windows), "--apply", "--local-scheduler")
    assert code == 0, err
    assert (
        "stg_orders changed (forward-only): 2 windows keep the version they were built with; new windows use it" in out
    )
    assert "nothing to rebuild" in out
    assert _markers(pipeline) == before, "old windows stay as they were built"

    new = pipeline.window(2)
    pipeline.generate(new, customers=2, orders=5)
    assert run_windows(new).name == "SUCCESS"
    rows = query(
        pipeline.warehouse_url,
        "select window_start, bool_and(item_name = upper(item_name)) from analytics.fct_orders group by window_start",
    )
    assert dict(rows) == {windows[0].start: False, windows[1].start: False, new.start: True}


def test_a_model_selecting_a_column_its_table_lacks_fails_plan_in_one_line(pipeline, files, capsys):
    files.edit(
        "transforms/staging/stg_customers",
        "window_start\n    from changes",
        "window_start,\n        1 as gift_wrap\n    from changes",
    )
    code, out, err = _plan(
        capsys, "--start", pipeline.window(0).label, "--end", f"{pipeline.window(1).end:%Y-%m-%dT%H:%M}"
    )
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "stg_customers selects gift_wrap, which staging.stg_customers does not have" in err
    following = max(int(path.name[:4]) for path in (REPO / "sql/migrations/warehouse").glob("*.sql")) + 1
    assert (
        f"sql/migrations/warehouse/{following:04d}_stg_customers_columns.sql"
        " (alter table staging.stg_customers add column gift_wrap integer)" in err
    )


def test_status_sql_list_and_the_cron_line_with_auto_apply(pipeline, files, capsys):
    windows = _built(pipeline, files, count=1)
    assert main(["sql", "list"]) == 0
    listing = capsys.readouterr().out
    short = versions.current()["transform:fct_orders"].short
    assert any(
        line.startswith("analytics.fct_orders") and f" {short} " in line and " 1 <- " in line
        for line in listing.splitlines()
    )
    assert any(line.startswith("staging.stg_orders") and " - <- " in line for line in listing.splitlines())
    files.edit("transforms/staging/stg_orders", *UPPER)
    assert main(["status", *_range(windows)]) == 0
    status = capsys.readouterr().out
    assert "stale: publish, fct_orders (storepipe plan)" in status
    assert "1 built by another version of a model" in status
    main(["freshness", "--max-lag", "15m", *_range(windows)])
    assert "1 built by another version of a model (storepipe plan) | " in capsys.readouterr().out

    # the cron line fills missing windows only, unless [plan] auto_apply is on
    before = _markers(pipeline)
    assert main(["backfill", *_range(windows), "--local-scheduler"]) == 0
    assert _markers(pipeline) == before
    settings = luigi.configuration.get_config()
    settings.set("plan", "auto_apply", "true")
    try:
        files.reread()
        assert main(["backfill", *_range(windows), "--local-scheduler"]) == 0
    finally:
        settings.remove_option("plan", "auto_apply")
    after = _markers(pipeline)
    assert {k for k in before if after[k][0] != before[k][0]} == {
        (name, windows[0].start) for name in ("transform:fct_orders", "publish")
    }
    capsys.readouterr()
    assert main(["status", *_range(windows)]) == 0
    assert "stale" not in capsys.readouterr().out


def _seed(pipeline, first, count: int) -> None:
    """Every versioned marker of `count` windows from `first`, on the current versions (as a finished
    range has), inserted directly as the benchmark's no-op case does."""
    current = versions.current()
    names = versions.versioned_markers()
    query(
        pipeline.warehouse_url,
        # this test's own warehouse: build the version index once, after the rows, not row by row
        "drop index storepipe.markers_task_version;"
        " insert into storepipe.markers (task_name, window_start, task_id, row_count, version)"
        " select n.name, s.start, 'seeded', 0, n.version"
        " from unnest(%s::text[], %s::text[]) as n (name, version)"
        " cross join generate_series(%s::timestamp, %s::timestamp, interval '5 minutes') as s (start)",
        (names, [current[n].fingerprint for n in names], first, first + dt.timedelta(minutes=5 * (count - 1))),
    )
    query(
        pipeline.warehouse_url,
        "create index markers_task_version on storepipe.markers (task_name, version, window_start)",
    )


def _fastest(windows, repeats=3) -> float:
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        found = plan.plan(windows)
        best = min(best, time.perf_counter() - began)
        assert found.todo() == []
    return best


def test_a_year_of_complete_windows_plans_in_at_most_twice_one_windows_time(pipeline):
    first = pipeline.window(0)
    year = first.range_to(first.start + dt.timedelta(days=365))
    _seed(pipeline, first.start, len(year))
    query(pipeline.warehouse_url, "analyze storepipe.markers")
    db.close_shared()
    _fastest(year[:1], repeats=1)  # warm the connection and the caches
    one, whole = _fastest(year[:1]), _fastest(year)
    assert whole <= 2 * one, f"a year of windows took {whole:.3f} s, one window {one:.3f} s"
