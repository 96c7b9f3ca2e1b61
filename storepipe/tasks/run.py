"""RunWindow: everything for one window; RangeWindows: Luigi's range tool over whole windows."""

from __future__ import annotations

import luigi
import luigi.tools.range

from storepipe.errors import WindowError
from storepipe.tasks import completeness
from storepipe.tasks.base import WindowTask
from storepipe.tasks.publish import PublishMarts
from storepipe.warehouse.markers import PUBLISH, marker_name
from storepipe.window import Window, closed_until, grid_windows, on_grid, parse_datetime, window_minutes


class RunWindow(WindowTask, luigi.WrapperTask):
    """Everything for one window: extracts, loads, staging, then marts published after their audit.

    Complete when the window's `publish` marker exists (written with the marts, after the checks pass).
    """

    def marker_names(self) -> list[str]:
        return [self.marker_name()]

    def marker_name(self) -> str:
        return marker_name(PUBLISH)

    def requires(self):
        return self.below(PublishMarts)

    def output(self):
        return []


class _RangeBound(luigi.DateMinuteParameter):
    """A range's start or stop: `2024-01-01T10:00` or Luigi's `2024-01-01T1000`."""

    def parse(self, s):
        return parse_datetime(s)


class RangeWindows(luigi.tools.range.RangeByMinutes):
    """Every closed window in [start, stop) whose task tree is not complete, checked with one query per family.

    Unlike a plain RangeByMinutes it reaches back to `start` (not one day), requires no window that is
    not closed, and also catches a window whose RunWindow is complete while a task below it is not.
    """

    of = luigi.TaskParameter(default=RunWindow, description="The window task to complete over the range.")
    start = _RangeBound(default=None, description="First window, inclusive, e.g. 2024-01-01T10:00 (UTC).")
    stop = _RangeBound(default=None, description="End of the range, exclusive (default: now).")
    minutes_back = luigi.IntParameter(
        default=60 * 24 * 366 * 10, description="How far back from now the range may reach, in minutes."
    )
    minutes_interval = luigi.IntParameter(
        default=0, description="Window length in minutes; 0 (the default) takes [window] minutes."
    )

    def moving_stop(self, now):
        return closed_until(super().moving_stop(now))

    def finite_datetimes(self, finite_start, finite_stop):
        minutes = window_minutes()
        if self.minutes_interval not in (0, minutes):
            raise WindowError(
                f"--minutes-interval {self.minutes_interval} differs from the {minutes}-minute windows",
                "RangeWindows",
                "leave it out, or change [window] minutes",
            )
        for bound, where in ((self.start, "--start"), (self.stop, "--stop")):
            if bound is not None:
                on_grid(bound, where)
        return [w.start for w in grid_windows(finite_start, finite_stop)]

    def missing_datetimes(self, finite_datetimes):
        self._completeness = completeness.check(finite_datetimes, self.of)
        return sorted(self._completeness.incomplete)

    def _instantiate_task_cls(self, param):
        return completeness.roots(Window(param, window_minutes()), self._completeness)
