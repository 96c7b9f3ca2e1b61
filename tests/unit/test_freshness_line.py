"""`storepipe freshness`' one line: what a monitor shows, with its performance data."""

import datetime as dt

from storepipe.cli import render
from storepipe.ops import freshness
from storepipe.window import Window

MINUTES = dt.timedelta(minutes=1)


def verdict(**fields) -> freshness.Verdict:
    base = {
        "code": freshness.OK,
        "newest": Window(dt.datetime(2024, 1, 1, 10, 0)),
        "lag": 7 * MINUTES,
        "failed": 0,
        "missing": 0,
        "windows": 288,
        "max_lag": 15 * MINUTES,
        "warn_lag": 10 * MINUTES,
    }
    return freshness.Verdict(**{**base, **fields})


def test_the_line_names_the_state_the_window_the_lag_and_the_look_back():
    assert render.freshness(verdict()) == (
        "FRESHNESS OK - newest published window 2024-01-01T10:00 ended 7m ago (max 15m, warn 10m);"
        " 0 failed, 0 missing of 288 windows in the look-back | lag_seconds=420 failed=0 missing=0 stale=0"
    )
    late = render.freshness(verdict(code=freshness.CRITICAL, lag=dt.timedelta(days=2, hours=3), warn_lag=None))
    assert late.startswith("FRESHNESS CRITICAL - newest published window 2024-01-01T10:00 ended 2d03h ago (max 15m);")


def test_nothing_published_has_no_lag():
    line = render.freshness(verdict(code=freshness.CRITICAL, newest=None, lag=None, failed=2))
    assert line == (
        "FRESHNESS CRITICAL - no window published yet (max 15m, warn 10m);"
        " 2 failed, 0 missing of 288 windows in the look-back | failed=2 missing=0 stale=0"
    )
