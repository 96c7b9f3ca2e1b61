"""Backfills: which windows of a range need work (one query per task family), run in small Luigi builds."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import luigi
import requests
from luigi.execution_summary import LuigiRunResult, LuigiStatusCode

from storepipe import config
from storepipe.errors import StorepipeError, WindowError
from storepipe.ops import alerts
from storepipe.sources import orders_bucket
from storepipe.tasks import capture, completeness
from storepipe.tasks.completeness import Completeness
from storepipe.tasks.run import RunWindow
from storepipe.warehouse import failures, markers
from storepipe.warehouse.markers import LOAD, step_of
from storepipe.window import (
    LABEL_FORMAT,
    Window,
    Windows,
    closed_until,
    on_grid,
    parse_datetime,
    runs_of,
    window_minutes,
)

log = logging.getLogger(__name__)

# a build whose tasks another worker ran (through luigid) ends NOT_RUN: that is sharing, not failing
_FAILED_BUILDS = (
    LuigiStatusCode.FAILED,
    LuigiStatusCode.FAILED_AND_SCHEDULING_FAILED,
    LuigiStatusCode.SCHEDULING_FAILED,
)


# --- the range ----------------------------------------------------------------------------------------


def resolve_range(
    start: str | None,
    end: str | None = None,
    hours_back: int | None = None,
    *,
    closed: bool = True,
    now: dt.datetime | None = None,
) -> Windows:
    """The windows of `--start S [--end E]` (E exclusive; default: now) or of `--hours-back N`: a range
    held as its bounds, so a year of windows costs nothing until someone walks it."""
    minutes = window_minutes()
    until = closed_until(now)
    if hours_back is not None:
        if start or end:
            raise StorepipeError("--hours-back names its own range", "--start/--end", "give --hours-back alone")
        if hours_back < 1:
            raise StorepipeError(f"--hours-back {hours_back} covers no window", "--hours-back", "give 1 or more hours")
        count = hours_back * 60 // minutes
        return Window(until - dt.timedelta(minutes=count * minutes), minutes).range_to(until)
    if start is None:
        raise StorepipeError("no range given", "--start/--hours-back", "add --start 2024-01-01T10:00 or --hours-back N")
    first = _bound(start, "--start")
    stop = _bound(end, "--end") if end else until
    if stop <= first:
        raise WindowError(
            f"the range {first:{LABEL_FORMAT}} .. {stop:{LABEL_FORMAT}} holds no window",
            "--start/--end",
            "give an --end after --start (--end is exclusive)",
        )
    if closed and stop > until:
        raise WindowError(
            f"window {Window(stop, minutes).label} and later are not closed yet",
            "--end",
            f"end at {until:{LABEL_FORMAT}} or earlier",
        )
    return Window(first, minutes).range_to(stop)


def _bound(text: str, where: str) -> dt.datetime:
    try:
        return on_grid(parse_datetime(text), where)
    except WindowError as err:
        raise WindowError(err.what, where, err.todo) from None


# --- planning and running --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """How far a backfill is: windows done of all, rows loaded, time so far."""

    done: int
    total: int
    rows: int
    elapsed_s: float

    @property
    def remaining_s(self) -> float | None:
        """A straight-line estimate from the windows done so far; None before the first one."""
        if not self.done:
            return None
        return self.elapsed_s / self.done * (self.total - self.done)


@dataclass
class Plan:
    """What a backfill will do: the range, the windows to run (in order) and what it knows of the others."""

    windows: Sequence[Window]
    todo: list[Window]
    held_back: int
    force: bool
    completeness: Completeness
    failed: dict[dt.datetime, str]

    @property
    def complete(self) -> set[dt.datetime]:
        return self.completeness.complete

    @property
    def complete_count(self) -> int:
        return self.completeness.complete_count


def plan(
    windows: Sequence[Window],
    *,
    force: bool = False,
    reverse: bool = False,
    task_limit: int | None = None,
    root: type = RunWindow,
) -> Plan:
    """The windows to run: the incomplete ones (all if `force`), oldest first unless `reverse`, `task_limit` at most."""
    limit = config.backfill().task_limit if task_limit is None else task_limit
    checked = completeness.check(windows, root)
    incomplete = checked.incomplete
    # made from what is missing, not by walking the range: a complete year makes no window here
    pending = list(windows) if force else _windows_at(windows, incomplete)
    failed = failures.unresolved(sorted(incomplete))
    if reverse:
        pending.reverse()
    todo = pending[:limit] if limit else pending
    return Plan(windows, todo, len(pending) - len(todo), force, checked, failed)


def _windows_at(windows: Sequence[Window], starts: set[dt.datetime]) -> list[Window]:
    """The windows of `windows` that start at one of `starts`, in order."""
    if isinstance(windows, Windows):
        return [Window(start, windows.minutes) for start in sorted(starts)]
    return [window for window in windows if window.start in starts]


@dataclass
class Outcome:
    """How a backfill went: Luigi's result per build, the last progress, and the windows left incomplete."""

    plan: Plan
    builds: list[LuigiRunResult]
    build_seconds: list[float]
    progress: Progress
    failed: dict[dt.datetime, str]
    unfinished: list[Window]

    @property
    def ok(self) -> bool:
        return not self.failed and not any(build.status in _FAILED_BUILDS for build in self.builds)


def run(
    the_plan: Plan,
    *,
    workers: int = 1,
    scheduler_url: str | None = None,
    windows_per_build: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    log_level: str = "WARNING",
) -> Outcome:
    """Run the plan's windows in builds of `windows_per_build`, so the scheduler's cost per task stays low."""
    per_build = windows_per_build or config.backfill().windows_per_build
    root_family = the_plan.completeness.families[0]
    todo_runs = runs_of(the_plan.todo)
    marker_names = [n for f in the_plan.completeness.families for n in f.marker_names()]
    row_names = [n for n in marker_names if step_of(n) == LOAD]
    started = time.monotonic()
    builds, seconds = [], []
    progress = Progress(0, len(the_plan.todo), 0, 0.0)
    # a forced backfill rebuilds: each task counts only markers the warehouse stamps from now on, so
    # nothing is deleted and a run racing it never finds a task's input gone
    after = markers.now() if the_plan.force else None
    for chunk in _chunks(the_plan.todo, per_build):
        if the_plan.force:
            tasks = [root_family.tasks[0].clone(window=w, rebuild_after=after) for w in chunk]
        else:
            tasks = [task for w in chunk for task in completeness.roots(w, the_plan.completeness)]
        log.info("building windows %s .. %s (%d tasks given)", chunk[0].label, chunk[-1].label, len(tasks))
        began = time.monotonic()
        # one LIST, one read of the customer log and one of the markers for the build's windows, not one each
        with (
            orders_bucket.listed_together(chunk),
            capture.shared_by_block(),
            markers.read_for_scheduling(marker_names, chunk),
        ):
            builds.append(_build(tasks, workers, scheduler_url, log_level))
        seconds.append(time.monotonic() - began)
        done = len(the_plan.todo) - len(root_family.incomplete(todo_runs, after))
        loaded = markers.rows(row_names, todo_runs)
        progress = Progress(done, len(the_plan.todo), loaded, time.monotonic() - started)
        if on_progress:
            on_progress(progress)
    root = root_family.cls
    left = completeness.check(todo_runs, root, after).incomplete
    incomplete = [w for w in the_plan.todo if w.start in left]
    failed = failures.unresolved(w.start for w in incomplete)
    unfinished = [w for w in incomplete if w.start not in failed]
    return Outcome(the_plan, builds, seconds, progress, failed, unfinished)


def _build(tasks: list[luigi.Task], workers: int, scheduler_url: str | None, log_level: str) -> LuigiRunResult:
    where = {"scheduler_url": scheduler_url} if scheduler_url else {"local_scheduler": True}
    return luigi.build(
        tasks,
        workers=workers,
        detailed_summary=True,
        log_level=log_level,
        worker_scheduler_factory=alerts.QuietWorkers(_BuildWorker),
        **where,
    )


class _BuildWorker(luigi.worker.Worker):
    """A build's worker. It schedules on the markers read once for the build (`markers.read_for_scheduling`)
    and looks again once it runs tasks. In one process (no forked task processes) it keeps Luigi's cache
    of complete tasks (`[worker] cache_task_completion`) in a dict: Luigi's is a multiprocessing Manager,
    a server process started per build and a round trip to it per lookup, for processes this worker
    never forks. (Were Luigi to rename its cache's attribute, the cache would only be off.)"""

    def __init__(self, *args, worker_processes: int = 1, **kwargs):
        config = luigi.worker.worker()
        in_process = int(worker_processes) == 1 and not config.force_multiprocessing
        if in_process:
            kwargs["cache_task_completion"] = False  # no Manager started
        super().__init__(*args, worker_processes=worker_processes, **kwargs)
        if in_process and config.cache_task_completion:
            self._task_completion_cache = {}

    def run(self) -> bool:
        markers.scheduled()
        return super().run()


def _chunks(windows: list[Window], size: int) -> Iterator[list[Window]]:
    for i in range(0, len(windows), max(1, size)):
        yield windows[i : i + size]


def require_scheduler(url: str) -> None:
    """One line, not Luigi's minutes of retries, when the luigid at `url` does not answer."""
    try:
        requests.get(url, timeout=5)
    except requests.RequestException as err:
        raise StorepipeError(
            f"luigid does not answer ({type(err).__name__})",
            url,
            "start it with `storepipe up`, or pass --local-scheduler",
        ) from None
