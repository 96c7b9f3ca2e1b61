"""Backfills: which windows of a range need work (one query per task family), run in small Luigi builds."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import luigi
import requests
from luigi.execution_summary import LuigiRunResult, LuigiStatusCode

from storepipe import config, failures, markers, models, sql, warehouse
from storepipe.errors import StorepipeError, WindowError
from storepipe.progress import Progress
from storepipe.tasks.base import WindowTask
from storepipe.window import LABEL_FORMAT, Window, parse_datetime, utcnow, window_minutes

log = logging.getLogger(__name__)

# a task tree's shape does not depend on its window, so any closed window stands in to walk it
_TEMPLATE_START = dt.datetime(2000, 1, 1)
_EPOCH = dt.datetime(1970, 1, 1)
# a build whose tasks another worker ran (through luigid) ends NOT_RUN: that is sharing, not failing
_FAILED_BUILDS = (
    LuigiStatusCode.FAILED,
    LuigiStatusCode.FAILED_AND_SCHEDULING_FAILED,
    LuigiStatusCode.SCHEDULING_FAILED,
)


# --- the range ----------------------------------------------------------------------------------------


def closed_until(now: dt.datetime | None = None) -> dt.datetime:
    """The end of the newest closed window: now, floored to the window grid."""
    now = now or utcnow()
    step = window_minutes() * 60
    seconds = int((now - _EPOCH).total_seconds())
    return _EPOCH + dt.timedelta(seconds=seconds - seconds % step)


def resolve_range(
    start: str | None,
    end: str | None = None,
    hours_back: int | None = None,
    *,
    closed: bool = True,
    now: dt.datetime | None = None,
) -> list[Window]:
    """The windows of `--start S [--end E]` (E exclusive; default: now) or of `--hours-back N`."""
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


def on_grid(moment: dt.datetime, where: str) -> dt.datetime:
    """`moment` if it is a window boundary; else one line naming the boundary before it."""
    try:
        return Window.of(moment, window_minutes()).start
    except WindowError as err:
        raise WindowError(err.what, where, err.todo) from None


def grid_windows(first: dt.datetime, stop: dt.datetime) -> list[Window]:
    """Every window starting in [first, stop), on the window grid."""
    minutes = window_minutes()
    step = minutes * 60
    seconds = (first - _EPOCH).total_seconds()
    start = _EPOCH + dt.timedelta(seconds=-(-seconds // step) * step)
    return Window(start, minutes).range_to(stop)


# --- completeness down the whole tree ------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """One task class of a window's tree with its instances there (TransformModel: one per staging model)."""

    name: str
    tasks: tuple[luigi.Task, ...]

    @property
    def cls(self) -> type:
        return type(self.tasks[0])

    def marker_names(self) -> list[str]:
        return sorted({name for task in self.tasks if isinstance(task, WindowTask) for name in task.marker_names()})

    def complete_starts(self, starts: Sequence[dt.datetime]) -> set[dt.datetime]:
        """The windows among `starts` where every instance is complete; one query for a marker-completed family."""
        if not starts:
            return set()
        if _completes_by_markers(self.cls):
            return markers.done_windows(self.marker_names(), starts)
        done = set(starts)
        for task in self.tasks:
            fixed = {name: value for name, value in task.param_kwargs.items() if name != "window"}
            try:
                found = self.cls.bulk_complete.__func__(functools.partial(self.cls, **fixed), sorted(done))
            except NotImplementedError:
                found = [s for s in done if task.clone(window=Window(s, window_minutes())).complete()]
            done &= set(found)
        return done


def _completes_by_markers(cls: type) -> bool:
    """Complete exactly when every one of `marker_names()` exists, as WindowTask defines it."""
    return (
        issubclass(cls, WindowTask)
        and cls.complete is WindowTask.complete
        and cls.bulk_complete.__func__ is WindowTask.bulk_complete.__func__
    )


def default_root() -> type:
    from storepipe.tasks.run import RunWindow

    return RunWindow


def families(root: type | None = None) -> list[Family]:
    """Every task family of one window's tree, the root's first, found by walking `requires()`."""
    root = root or default_root()
    queue = [root(window=Window(_TEMPLATE_START, window_minutes()))]
    seen: set[str] = set()
    found: dict[str, list[luigi.Task]] = {}
    while queue:
        task = queue.pop(0)
        if task.task_id in seen:
            continue
        seen.add(task.task_id)
        found.setdefault(task.task_family, []).append(task)
        queue.extend(luigi.task.flatten(task.requires()))
    return [Family(name, tuple(tasks)) for name, tasks in found.items()]


@dataclass
class Completeness:
    """For each task family of the tree, the windows of a range where it is complete."""

    families: list[Family]
    done: dict[str, set[dt.datetime]]

    @property
    def complete(self) -> set[dt.datetime]:
        sets = list(self.done.values())
        return set.intersection(*sets) if sets else set()

    def incomplete_families(self, start: dt.datetime) -> list[Family]:
        return [family for family in self.families if start not in self.done[family.name]]


def check(starts: Sequence[dt.datetime], root: type | None = None) -> Completeness:
    """Completeness of the whole tree over many windows: one query per task family, whatever the range's length."""
    found = families(root)
    return Completeness(found, {family.name: family.complete_starts(list(starts)) for family in found})


def missing_starts(starts: Sequence[dt.datetime], root: type | None = None) -> list[dt.datetime]:
    complete = check(starts, root).complete
    return sorted(start for start in starts if start not in complete)


def roots(window: Window, completeness: Completeness) -> list[luigi.Task]:
    """The tasks to hand Luigi for a window: its root, plus what is missing below a root that is complete."""
    root_family = completeness.families[0]
    root = root_family.tasks[0].clone(window=window)
    if window.start not in completeness.done[root_family.name]:
        return [root]
    # Luigi never looks below a complete task, so name the incomplete ones underneath
    below = completeness.incomplete_families(window.start)
    return [root] + [task.clone(window=window) for family in below for task in family.tasks]


# --- planning and running --------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a backfill will do: the range, the windows to run (in order) and what it knows of the others."""

    windows: list[Window]
    todo: list[Window]
    held_back: int
    force: bool
    completeness: Completeness
    failed: dict[dt.datetime, str]

    @property
    def complete(self) -> set[dt.datetime]:
        return self.completeness.complete


def plan(
    windows: Sequence[Window],
    *,
    force: bool = False,
    reverse: bool = False,
    task_limit: int | None = None,
    root: type | None = None,
) -> Plan:
    """The windows to run: the incomplete ones (all if `force`), oldest first unless `reverse`, `task_limit` at most."""
    limit = config.backfill().task_limit if task_limit is None else task_limit
    completeness = check([w.start for w in windows], root)
    complete = completeness.complete
    pending = [w for w in windows if force or w.start not in complete]
    failed = failures.unresolved(w.start for w in pending if w.start not in complete)
    if reverse:
        pending.reverse()
    todo = pending[:limit] if limit else pending
    return Plan(list(windows), todo, len(pending) - len(todo), force, completeness, failed)


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
    todo_starts = [w.start for w in the_plan.todo]
    row_names = [n for f in the_plan.completeness.families for n in f.marker_names() if n.startswith("load:")]
    started = time.monotonic()
    builds, seconds = [], []
    progress = Progress(0, len(the_plan.todo), 0, 0.0)
    for chunk in _chunks(the_plan.todo, per_build):
        if the_plan.force:
            forget(chunk)
            tasks = [root_family.tasks[0].clone(window=w) for w in chunk]
        else:
            tasks = [task for w in chunk for task in roots(w, the_plan.completeness)]
        log.info("building windows %s .. %s (%d tasks given)", chunk[0].label, chunk[-1].label, len(tasks))
        began = time.monotonic()
        builds.append(_build(tasks, workers, scheduler_url, log_level))
        seconds.append(time.monotonic() - began)
        done = len(root_family.complete_starts(todo_starts))
        progress = Progress(done, len(todo_starts), rows(row_names, todo_starts), time.monotonic() - started)
        if on_progress:
            on_progress(progress)
    complete = check(todo_starts).complete if todo_starts else set()
    incomplete = [w for w in the_plan.todo if w.start not in complete]
    failed = failures.unresolved(w.start for w in incomplete)
    unfinished = [w for w in incomplete if w.start not in failed]
    return Outcome(the_plan, builds, seconds, progress, failed, unfinished)


def _build(tasks: list[luigi.Task], workers: int, scheduler_url: str | None, log_level: str) -> LuigiRunResult:
    where = {"scheduler_url": scheduler_url} if scheduler_url else {"local_scheduler": True}
    return luigi.build(tasks, workers=workers, detailed_summary=True, log_level=log_level, **where)


def _chunks(windows: list[Window], size: int) -> Iterator[list[Window]]:
    for i in range(0, len(windows), max(1, size)):
        yield windows[i : i + size]


def forget(windows: Sequence[Window]) -> None:
    """Drop every marker of these windows in one transaction, so each of their tasks runs again."""
    with warehouse.transaction() as cur:
        cur.execute(sql.load("backfill/forget_windows"), {"starts": [w.start for w in windows]})
        log.info("forgot %d markers of %d windows", cur.rowcount, len(windows))


def rows(task_names: Sequence[str], starts: Sequence[dt.datetime]) -> int:
    """Rows that the markers `task_names` recorded over these windows."""
    if not task_names or not starts:
        return 0
    with warehouse.shared().cursor() as cur:
        cur.execute(sql.load("backfill/rows_in_windows"), {"task_names": list(task_names), "starts": list(starts)})
        return int(cur.fetchone()[0])


# --- status of a range -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowState:
    window: Window
    state: str  # done, failed, missing, or open (not closed yet)
    markers: int  # how many of the tree's markers exist
    rows: dict[str, int]  # row count per marker, for the loads and the marts
    error: str | None = None


@dataclass
class Status:
    """Per window of a range: done / failed / missing, with the row counts its markers recorded."""

    states: list[WindowState]
    columns: list[str]
    marker_total: int


def status(windows: Sequence[Window], *, now: dt.datetime | None = None, root: type | None = None) -> Status:
    """Done, failed or missing per window, from the marker tables (one query per task family, plus two)."""
    until = closed_until(now)
    closed = [w.start for w in windows if w.end <= until]
    completeness = check(closed, root)
    complete = completeness.complete
    failed = failures.unresolved(start for start in closed if start not in complete)
    tree_names = {name for family in completeness.families for name in family.marker_names()}
    marts = [f"transform:{m.name}" for m in models.discover().values() if m.layer == "marts"]
    columns = sorted(n for n in tree_names if n.startswith("load:")) + marts
    found: dict[dt.datetime, dict[str, int]] = {}
    if windows:
        with warehouse.shared().cursor() as cur:
            cur.execute(
                sql.load("backfill/markers_in_range"),
                {"range_start": windows[0].start, "range_end": windows[-1].end},
            )
            for start, task_name, row_count in cur.fetchall():
                found.setdefault(start, {})[task_name] = row_count
    states = []
    for window in windows:
        present = found.get(window.start, {})
        if window.end > until:
            state = "open"
        elif window.start in complete:
            state = "done"
        else:
            state = "failed" if window.start in failed else "missing"
        states.append(
            WindowState(
                window,
                state,
                len(tree_names & present.keys()),
                {name: present[name] for name in columns if name in present},
                failed.get(window.start),
            )
        )
    return Status(states, columns, len(tree_names))


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
