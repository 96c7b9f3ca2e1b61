"""RunWindow: everything for one window."""

from __future__ import annotations

import luigi

from storepipe.tasks.base import WindowTask
from storepipe.tasks.publish import PublishMarts


class RunWindow(WindowTask, luigi.WrapperTask):
    """Everything for one window: extracts, loads, staging, then marts published after their audit.

    Complete when the window's `publish` marker exists (written with the marts, after the checks pass).
    """

    def marker_names(self) -> list[str]:
        return ["publish"]

    def marker_name(self) -> str:
        return "publish"

    def requires(self):
        return PublishMarts(window=self.window)

    def output(self):
        return []


# --- RangeWindows: Luigi's range tool over whole windows; failures remembered per window ---------------

import luigi.tools.range  # noqa: E402

from storepipe.errors import WindowError  # noqa: E402
from storepipe.window import Window, parse_datetime, window_minutes  # noqa: E402


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
        from storepipe import backfill

        return backfill.closed_until(super().moving_stop(now))

    def finite_datetimes(self, finite_start, finite_stop):
        from storepipe import backfill

        minutes = window_minutes()
        if self.minutes_interval not in (0, minutes):
            raise WindowError(
                f"--minutes-interval {self.minutes_interval} differs from the {minutes}-minute windows",
                "RangeWindows",
                "leave it out, or change [window] minutes",
            )
        for bound, where in ((self.start, "--start"), (self.stop, "--stop")):
            if bound is not None:
                backfill.on_grid(bound, where)
        return [w.start for w in backfill.grid_windows(finite_start, finite_stop)]

    def missing_datetimes(self, finite_datetimes):
        from storepipe import backfill

        self._completeness = backfill.check(finite_datetimes, self.of)
        return sorted(set(finite_datetimes) - self._completeness.complete)

    def _instantiate_task_cls(self, param):
        from storepipe import backfill

        return backfill.roots(Window(param, window_minutes()), self._completeness)


@WindowTask.event_handler(luigi.Event.FAILURE)
def _remember_failure(task, error):
    """Record which task of which window failed, for `storepipe status` and `storepipe backfill --dry-run`."""
    from storepipe import failures

    failures.record(task.marker_name(), task.window.start, task.task_id, error)
