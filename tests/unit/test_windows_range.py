"""A range of windows held as its bounds: it behaves as the list of its windows, and runs_of cuts any
windows into runs of consecutive ones."""

import datetime as dt

import pytest

from storepipe.window import Window, Windows, runs_of

FIRST = dt.datetime(2024, 1, 1, 10, 0)
STEP = dt.timedelta(minutes=5)


def listed(first: dt.datetime, count: int) -> list[Window]:
    return [Window(first + i * STEP, 5) for i in range(count)]


def test_a_range_is_the_list_of_its_windows():
    windows = Windows(FIRST, FIRST + 24 * STEP, 5)
    expected = listed(FIRST, 24)
    assert len(windows) == 24 and list(windows) == expected and windows == expected and expected == windows
    assert windows[0] == expected[0] and windows[-1] == expected[-1] and windows[5] == expected[5]
    assert windows[2:5] == expected[2:5] and isinstance(windows[2:5], Windows)
    assert windows[::2] == expected[::2] and windows[-3:] == expected[-3:] and windows[30:] == []
    assert list(reversed(windows)) == expected[::-1]
    assert list(windows.starts()) == [w.start for w in expected]
    with pytest.raises(IndexError):
        windows[24]


def test_a_year_is_counted_and_searched_without_making_its_windows():
    year = Windows(FIRST, FIRST + dt.timedelta(days=365), 5)
    assert len(year) == 105_120
    assert year[-1].end == FIRST + dt.timedelta(days=365)
    assert FIRST + 1000 * STEP in year and Window(FIRST + 7 * STEP, 5) in year
    assert FIRST + dt.timedelta(minutes=2) not in year, "off the grid"
    assert FIRST - STEP not in year and FIRST + dt.timedelta(days=365) not in year, "half-open"
    assert Window(FIRST, 10) not in year, "a window of another length"


def test_a_stop_off_the_grid_ends_after_the_window_holding_it_and_an_empty_range_is_empty():
    assert Window(FIRST, 5).range_to(FIRST + dt.timedelta(minutes=12)) == listed(FIRST, 3)
    assert Window(FIRST, 5).range_to(FIRST) == [] and not Windows(FIRST, FIRST - STEP, 5)
    assert Windows(FIRST, FIRST, 5) == Windows(FIRST + STEP, FIRST, 5), "every empty range is the same"


def test_runs_of_cuts_windows_into_runs_of_consecutive_ones():
    windows = [*listed(FIRST, 3), *listed(FIRST + 10 * STEP, 2), Window(FIRST + 20 * STEP, 5)]
    runs = runs_of(reversed(windows), 5)
    assert runs == [
        Windows(FIRST, FIRST + 3 * STEP, 5),
        Windows(FIRST + 10 * STEP, FIRST + 12 * STEP, 5),
        Windows(FIRST + 20 * STEP, FIRST + 21 * STEP, 5),
    ]
    assert runs_of([w.start for w in windows] * 2, 5) == runs, "starts, repeated, give the same runs"
    year = Windows(FIRST, FIRST + dt.timedelta(days=365), 5)
    assert runs_of(year) == [year] and runs_of(runs) == runs, "a range, or runs, are runs already"
    assert runs_of([], 5) == [] and runs_of(Windows(FIRST, FIRST, 5)) == []
