"""`storepipe freshness`: the verdict and exit code a monitor reads, after real runs."""

from __future__ import annotations

import datetime as dt

import luigi

from storepipe.ops import freshness
from tests.helpers import run_windows, storepipe_cli
from tests.integration.test_bad_orders import plant

MAX = dt.timedelta(minutes=15)


def test_ok_warning_critical_from_the_newest_published_window_and_the_look_back(pipeline):
    missing, failed, published = pipeline.window(0), pipeline.window(1), pipeline.window(2)
    pipeline.generate(published, customers=3, orders=10)
    plant(pipeline, failed, "orders.json", b"{}")
    assert run_windows(published) == luigi.LuigiStatusCode.SUCCESS
    assert run_windows(failed) == luigi.LuigiStatusCode.FAILED
    soon = published.end + dt.timedelta(minutes=5)

    fresh = freshness.check([published], max_lag=MAX, now=soon)
    assert (fresh.code, fresh.newest, fresh.lag) == (freshness.OK, published, dt.timedelta(minutes=5))
    late = freshness.check([published], max_lag=MAX, warn_lag=dt.timedelta(minutes=3), now=soon)
    assert late.code == freshness.WARNING
    holes = freshness.check([missing, failed, published], max_lag=MAX, now=soon)
    assert (holes.code, holes.failed, holes.missing, holes.windows) == (freshness.WARNING, 1, 1, 3)
    # a window that closed less than max_lag ago is not missing yet: the pipeline still has time
    due_later = freshness.check([missing], max_lag=dt.timedelta(minutes=20), now=soon)
    assert (due_later.code, due_later.missing) == (freshness.OK, 0)
    stale = freshness.check([published], max_lag=MAX, now=published.end + dt.timedelta(minutes=16))
    assert stale.code == freshness.CRITICAL

    # the command, as a monitor runs it: these windows of 2024 are long past their max lag
    look_back = ("--start", missing.label, "--end", published.end.strftime("%Y-%m-%dT%H:%M"))
    critical = storepipe_cli("freshness", "--max-lag", "15m", "--warn-lag", "10m", *look_back)
    assert critical.returncode == freshness.CRITICAL, critical.stderr
    [line] = critical.stdout.splitlines()
    assert line.startswith(f"FRESHNESS CRITICAL - newest published window {published.label} ended ")
    assert "1 failed, 1 missing of 3 windows in the look-back" in line and "| lag_seconds=" in line


def test_unknown_when_it_cannot_look(pipeline):
    bad_duration = storepipe_cli("freshness", "--max-lag", "soon")
    assert bad_duration.returncode == freshness.UNKNOWN
    assert bad_duration.stdout.startswith("FRESHNESS UNKNOWN - --max-lag 'soon' is not a duration")
    NOWHERE = "postgresql://sde:password@127.0.0.1:1/warehouse"  # pragma: allowlist secret (no server there)
    unreachable = storepipe_cli(
        "freshness",
        "--max-lag",
        "15m",
        env={"WAREHOUSE_URL": NOWHERE},
    )
    assert unreachable.returncode == freshness.UNKNOWN, unreachable.stderr
    [line] = unreachable.stdout.splitlines()
    assert line.startswith("FRESHNESS UNKNOWN - ") and "Traceback" not in unreachable.stderr


def test_critical_when_nothing_was_published(pipeline):
    verdict = freshness.check([pipeline.window(0)], max_lag=MAX, now=pipeline.window(0).end + MAX)
    assert (verdict.code, verdict.newest, verdict.lag) == (freshness.CRITICAL, None, None)
