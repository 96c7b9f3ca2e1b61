"""Backfill ranges: which windows a range names, refused bounds, chunking, the task tree and the progress line."""

import datetime as dt
import itertools

import pytest

from storepipe.cli.render import progress_line
from storepipe.errors import StorepipeError, WindowError
from storepipe.ops import backfill
from storepipe.ops.backfill import Progress
from storepipe.tasks import RunWindow, completeness
from storepipe.window import Window, grid_windows

NOW = dt.datetime(2024, 6, 1, 12, 7, 30)


def test_start_end_is_half_open_on_the_grid():
    windows = backfill.resolve_range("2024-01-01T10:00", "2024-01-01T12:00", now=NOW)
    assert len(windows) == 24
    assert windows[0].start == dt.datetime(2024, 1, 1, 10, 0)
    assert windows[-1].end == dt.datetime(2024, 1, 1, 12, 0)
    assert backfill.resolve_range("2024-01-01T1000", "2024-01-01T1010", now=NOW) == windows[:2]


def test_end_defaults_to_the_newest_closed_window():
    windows = backfill.resolve_range("2024-06-01T11:00", now=NOW)
    assert windows[-1] == Window(dt.datetime(2024, 6, 1, 12, 0), 5)
    assert windows[-1].end <= NOW


def test_hours_back_names_the_closed_windows_of_the_last_hours():
    windows = backfill.resolve_range(None, hours_back=24, now=NOW)
    assert len(windows) == 288
    assert windows[-1].end == dt.datetime(2024, 6, 1, 12, 5)
    assert windows[0].start == dt.datetime(2024, 5, 31, 12, 5)
    assert all(w.next() == nxt for w, nxt in itertools.pairwise(windows))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2024-01-01T10:02", None, "not on a 5-minute boundary (--start); use 2024-01-01T10:00"),
        ("2024-01-01T10:00", "2024-01-01T10:07", "(--end); use 2024-01-01T10:05"),
        ("2024-01-01T10:00", "2024-01-01T10:00", "holds no window"),
        ("2024-06-01T12:00", "2024-06-01T12:10", "not closed yet (--end); end at 2024-06-01T12:05 or earlier"),
        ("yesterday", None, "cannot read window 'yesterday' (--start)"),
    ],
)
def test_bad_bounds_are_refused_in_one_line(start, end, expected):
    with pytest.raises(WindowError) as caught:
        backfill.resolve_range(start, end, now=NOW)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_hours_back_must_cover_a_window():
    with pytest.raises(StorepipeError, match="covers no window"):
        backfill.resolve_range(None, hours_back=0, now=NOW)


def test_status_may_reach_past_now():
    windows = backfill.resolve_range("2024-06-01T12:00", "2024-06-01T12:15", closed=False, now=NOW)
    assert [w.start.minute for w in windows] == [0, 5, 10]


def test_grid_windows_start_at_the_first_boundary_at_or_after_first():
    windows = grid_windows(dt.datetime(2024, 1, 1, 10, 2, 30), dt.datetime(2024, 1, 1, 10, 20))
    assert [w.start.minute for w in windows] == [5, 10, 15]
    assert grid_windows(dt.datetime(2024, 1, 1, 10, 5), dt.datetime(2024, 1, 1, 10, 10))[0].start.minute == 5


def test_chunks_cover_every_window_once_in_order():
    windows = backfill.resolve_range("2024-01-01T00:00", "2024-01-01T02:05", now=NOW)
    chunks = list(backfill._chunks(windows, 12))
    assert [len(c) for c in chunks] == [12, 12, 1]
    assert [w for chunk in chunks for w in chunk] == windows


def test_task_tree_families_start_at_the_root_and_cover_every_step():
    families = completeness.families(RunWindow)
    names = [family.name for family in families]
    assert names[0] == "RunWindow"
    for expected in ("ExtractCustomers", "ExtractOrders", "ExtractRiskScores", "LoadOrders", "TransformModel"):
        assert expected in names
    assert len(names) == len(set(names)), "one entry per family"
    transforms = next(f for f in families if f.name == "TransformModel")
    assert len(transforms.tasks) == len(transforms.marker_names()) > 1
    assert all(completeness._completes_by_markers(f.cls) for f in families)


def test_progress_line_says_done_total_rows_elapsed_and_an_estimate():
    line = progress_line(Progress(done=12, total=48, rows=123456, elapsed_s=60))
    assert line == "backfill: 12/48 windows done, 123,456 rows loaded, 0:01:00 elapsed, about 0:03:00 left"
    assert "left" not in progress_line(Progress(0, 48, 0, 3.0))
