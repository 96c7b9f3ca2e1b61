"""Invariant 1 (window): half-open, on the interval grid, closed; both CLI formats; refused, never floored."""

import datetime as dt

import luigi
import pytest

from storepipe.errors import ConfigError, WindowError
from storepipe.tasks import RunWindow
from storepipe.window import Window, WindowParameter, closed_until


def test_iso_and_luigi_formats_name_the_same_window():
    assert Window.parse("2024-01-01T10:00", 5) == Window.parse("2024-01-01T1000", 5)
    assert Window.parse("2024-01-01T10:05", 5).start == dt.datetime(2024, 1, 1, 10, 5)


def test_window_is_half_open_and_labelled():
    window = Window.parse("2024-01-01T10:55", 5)
    assert window.end == dt.datetime(2024, 1, 1, 11, 0)
    assert window.label == "2024-01-01T10:55"
    assert window.sql_params() == {"window_start": window.start, "window_end": window.end}
    assert window.next().start == window.end


def test_off_boundary_window_is_refused_with_the_nearest_start():
    with pytest.raises(WindowError) as caught:
        Window.parse("2024-01-01T10:07", 5)
    message = str(caught.value)
    assert "not on a 5-minute boundary" in message and "2024-01-01T10:05" in message
    assert "\n" not in message


def test_seconds_off_the_grid_are_refused_too():
    with pytest.raises(WindowError):
        Window.parse("2024-01-01T10:05:30", 5)


def test_unclosed_window_is_refused():
    now = dt.datetime(2024, 1, 1, 10, 7)
    with pytest.raises(WindowError, match="not closed yet"):
        Window.parse("2024-01-01T10:05", 5).require_closed(now)
    assert Window.parse("2024-01-01T10:00", 5).require_closed(now)


def test_garbage_is_refused_with_the_expected_format():
    with pytest.raises(WindowError, match="2024-01-01T10:00"):
        Window.parse("yesterday", 5)


def test_timezone_aware_input_becomes_naive_utc():
    assert Window.parse("2024-01-01T12:00+02:00", 5).start == dt.datetime(2024, 1, 1, 10, 0)


def test_window_parameter_accepts_datetimes_from_range_tools_and_serializes_iso():
    param = WindowParameter()
    window = param.normalize(dt.datetime(2024, 1, 1, 10, 0))
    assert isinstance(window, Window)
    assert param.serialize(window) == "2024-01-01T10:00"
    assert param.normalize(param.parse("2024-01-01T1000")) == window


def test_window_parameter_refuses_instead_of_flooring():
    with pytest.raises(WindowError):
        RunWindow(window=dt.datetime(2024, 1, 1, 10, 7))


def test_task_ids_are_stable_across_input_formats():
    a = RunWindow(window=Window.parse("2024-01-01T10:00", 5))
    b = RunWindow(window=dt.datetime(2024, 1, 1, 10, 0))
    assert a.task_id == b.task_id
    assert "2024_01_01T10_00" in a.task_id


@pytest.fixture
def grace():
    """Set `[window] grace` for one test."""
    parser = luigi.configuration.get_config()
    saved = parser.get("window", "grace", None)
    yield lambda text: parser.set("window", "grace", text)
    if saved is None:
        parser.remove_option("window", "grace")
    else:
        parser.set("window", "grace", saved)


def test_a_window_closes_only_after_its_grace_period(grace):
    grace("2 minutes")
    window = Window.parse("2024-01-01T10:00", 5)
    with pytest.raises(WindowError, match=r"not closed yet .*closes 120 s later, at 10:07:00"):
        window.require_closed(dt.datetime(2024, 1, 1, 10, 6, 59))
    assert window.require_closed(dt.datetime(2024, 1, 1, 10, 7))
    # the range tools and cron take the same rule: the newest closed window ends 2 minutes back, floored
    assert closed_until(dt.datetime(2024, 1, 1, 10, 6, 59)) == dt.datetime(2024, 1, 1, 10, 0)
    assert closed_until(dt.datetime(2024, 1, 1, 10, 7)) == dt.datetime(2024, 1, 1, 10, 5)


def test_no_grace_closes_a_window_at_its_end(grace):
    grace("0 seconds")
    assert Window.parse("2024-01-01T10:00", 5).require_closed(dt.datetime(2024, 1, 1, 10, 5))
    assert closed_until(dt.datetime(2024, 1, 1, 10, 5)) == dt.datetime(2024, 1, 1, 10, 5)


def test_a_grace_that_is_not_a_duration_is_one_line(grace):
    grace("soon")
    with pytest.raises(ConfigError, match=r"\[window\] grace 'soon' is not a duration"):
        Window.parse("2024-01-01T10:00", 5).require_closed(dt.datetime(2024, 1, 2))
