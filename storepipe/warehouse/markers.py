"""Marker rows: "this task, for this window, is done", written in the data's own transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import luigi

from storepipe import sqlfiles
from storepipe.warehouse import db
from storepipe.window import Window, Windows, runs_of

EXTRACT, LOAD, TRANSFORM, PUBLISH = "extract", "load", "transform", "publish"
_STEPS = (EXTRACT, LOAD, TRANSFORM, PUBLISH)


def marker_name(step: str, subject: str | None = None) -> str:
    """The one spelling of a marker's task name: `extract:orders`, `load:orders`, `transform:stg_customers`,
    `publish`."""
    if step not in _STEPS:
        raise ValueError(f"unknown step {step!r}")
    return f"{step}:{subject}" if subject else step


def step_of(name: str) -> str:
    """`load` for `load:orders`: the inverse of `marker_name` for the step."""
    return name.partition(":")[0]


def claim_lock(task_name: str, window: Window) -> str:
    """The advisory lock a task holds while it writes a window: one writer per task and window."""
    return f"{task_name}@{window.label}"


def now() -> dt.datetime:
    """The warehouse's clock as naive UTC: markers are stamped by it, so a rebuild compares with it."""
    with db.shared().cursor() as cur:
        cur.execute(sqlfiles.load("pipeline/markers/clock"))
        return cur.fetchone()[0].astimezone(dt.timezone.utc).replace(tzinfo=None)


def _aware(after: dt.datetime | None) -> dt.datetime | None:
    return None if after is None else after.replace(tzinfo=dt.timezone.utc)


class MarkerTarget(luigi.Target):
    """The output of every storepipe task: one row of storepipe.markers keyed by (task_name, window_start).

    With `after`, only a marker written at or after that instant counts (a forced rebuild's).
    """

    def __init__(self, task_name: str, window: Window, task_id: str, after: dt.datetime | None = None):
        self.task_name = task_name
        self.window = window
        self.task_id = task_id
        self.after = after

    def __str__(self) -> str:
        return f"storepipe.markers[{self.task_name} @ {self.window.label}]"

    def exists(self) -> bool:
        return done([self.task_name], self.window.start, self.after)

    def exists_in(self, cur) -> bool:
        """Look again inside the writer's transaction, after its lock is held."""
        return done([self.task_name], self.window.start, self.after, cur)

    def touch(
        self,
        cur,
        row_count: int,
        checksum: str | None = None,
        object_key: str | None = None,
        version: str | None = None,
    ) -> None:
        """Write the marker in the caller's transaction; `version`: the fingerprint of the SQL that built it."""
        cur.execute(
            sqlfiles.load("pipeline/markers/touch"),
            {
                **self._params(),
                "task_id": self.task_id,
                "row_count": row_count,
                "checksum": checksum,
                "object_key": object_key,
                "version": version,
            },
        )

    def read(self, cur=None) -> dict | None:
        """The marker's row (row count, checksum, object key, ...), on `cur` if given (a writer's transaction)."""
        cur = cur or db.shared().cursor()
        cur.execute(sqlfiles.load("pipeline/markers/read"), self._params())
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([c.name for c in cur.description], row, strict=False))

    def _params(self) -> dict:
        return {"task_name": self.task_name, "window_start": self.window.start}


# the markers a build's windows had when its scheduling began: window start -> the task names present
# (of `_scheduling_names`, the names read)
_scheduling: dict[dt.datetime, set[str]] | None = None
_scheduling_names: frozenset[str] = frozenset()


@contextmanager
def read_for_scheduling(task_names: Iterable[str], windows: Iterable[Window]) -> Iterator[None]:
    """Until `scheduled()` (or the block's end), `done` answers for `windows` from one read of their
    markers made on entry, instead of a lookup per task: Luigi asks each task of each window whether it
    is complete before it runs any (ten lookups a window). The answer is as of the read, as Luigi's own
    would be as of its lookup: a task scheduled on it checks its marker again when it claims its window,
    and its inputs' markers when it holds them. A rebuild's question (`after` given) still looks."""
    global _scheduling, _scheduling_names
    windows, names = list(windows), frozenset(task_names)
    found = in_windows(names, windows)
    _scheduling, _scheduling_names = {window.start: set(found.get(window.start, ())) for window in windows}, names
    try:
        yield
    finally:
        scheduled()


def scheduled() -> None:
    """Scheduling is over: from here on, `done` looks in the warehouse again (a task's completeness
    after it ran must be its own marker's)."""
    global _scheduling, _scheduling_names
    _scheduling, _scheduling_names = None, frozenset()


def done(task_names: Iterable[str], window_start: dt.datetime, after: dt.datetime | None = None, cur=None) -> bool:
    """Whether every one of `task_names` has a marker for the window (written at or after `after`, if
    given): one indexed lookup, on `cur` if given (a writer's transaction), or none while a build
    schedules (`read_for_scheduling`)."""
    if cur is None and after is None and _scheduling is not None and window_start in _scheduling:
        asked = set(task_names)
        if asked <= _scheduling_names:
            return asked <= _scheduling[window_start]
    if cur is None:
        with db.shared().cursor() as shared:
            return done(task_names, window_start, after, shared)
    params = {"task_names": sorted(set(task_names)), "window_start": window_start, "after": _aware(after)}
    cur.execute(sqlfiles.load("pipeline/markers/exists"), params)
    return bool(cur.fetchone()[0])


def done_windows(task_names: Iterable[str], starts: Iterable, after: dt.datetime | None = None) -> set:
    """Window starts (of `starts`: datetimes or windows) for which every one of `task_names` has a
    marker (written at or after `after`, if given): one query."""
    names = sorted(set(task_names))
    starts = {s.start if isinstance(s, Window) else s for s in starts}
    if not starts or not names:
        return set()
    return starts - incomplete(names, starts, after)


def incomplete(
    task_names: Iterable[str], windows: Windows | Iterable, after: dt.datetime | None = None
) -> set[dt.datetime]:
    """The starts of the windows (a `Windows` range, or windows or starts) that lack a marker of some
    task in `task_names` (written at or after `after`, if given): one query, handed the windows as
    runs of consecutive ones, so a complete year costs a read of its markers and no list of windows."""
    names, runs = sorted(set(task_names)), runs_of(windows)
    if not runs or not names:
        return set()
    with db.shared().cursor() as cur:
        cur.execute(
            sqlfiles.load("pipeline/markers/incomplete"),
            {**_runs(runs), "task_names": names, "minutes": runs[0].minutes, "after": _aware(after)},
        )
        return {row[0] for row in cur.fetchall()}


def rows(task_names: Sequence[str], windows: Windows | Iterable) -> int:
    """Rows that the markers `task_names` recorded over these windows (or starts)."""
    runs = runs_of(windows)
    if not task_names or not runs:
        return 0
    with db.shared().cursor() as cur:
        cur.execute(sqlfiles.load("pipeline/markers/rows_in_windows"), {**_runs(runs), "task_names": list(task_names)})
        return int(cur.fetchone()[0])


def in_windows(task_names: Iterable[str], windows: Windows | Iterable) -> dict[dt.datetime, dict[str, int]]:
    """The markers `task_names` of these windows (or starts): row count per task name, per window."""
    runs, names = runs_of(windows), sorted(set(task_names))
    found: dict[dt.datetime, dict[str, int]] = {}
    if not runs or not names:
        return found
    with db.shared().cursor() as cur:
        cur.execute(sqlfiles.load("pipeline/markers/markers_in_windows"), {**_runs(runs), "task_names": names})
        for start, task_name, row_count in cur.fetchall():
            found.setdefault(start, {})[task_name] = row_count
    return found


def _runs(runs: Sequence[Windows]) -> dict:
    """Runs of windows as the statements take them: their bounds."""
    return {"firsts": [run.first for run in runs], "stops": [run.stop for run in runs]}


def other_versions(
    current: dict[str, str], range_start: dt.datetime, range_end: dt.datetime
) -> list[tuple[str, dt.datetime, str | None]]:
    """(task name, window start, version) of the markers of windows starting in [range_start,
    range_end) built with a version other than `current[task name]` (None: unknown): one query,
    which reads nothing for windows on the current versions."""
    if not current:
        return []
    names = sorted(current)
    with db.shared().cursor() as cur:
        cur.execute(
            sqlfiles.load("pipeline/markers/other_versions"),
            {
                "task_names": names,
                "versions": [current[n] for n in names],
                "range_start": range_start,
                "range_end": range_end,
            },
        )
        return cur.fetchall()


def on_versions(current: dict[str, str]) -> dict[str, int]:
    """How many windows each task's markers hold on the version `current[task name]`: one query."""
    names = sorted(current)
    with db.shared().cursor() as cur:
        cur.execute(
            sqlfiles.load("pipeline/markers/on_versions"),
            {"task_names": names, "versions": [current[n] for n in names]},
        )
        return dict(cur.fetchall())


def newest(task_name: str) -> dt.datetime | None:
    """The latest window start that has the marker `task_name` (None: none yet); for `publish`, the
    newest window analysts can see."""
    with db.shared().cursor() as cur:
        cur.execute(sqlfiles.load("pipeline/markers/newest"), {"task_name": task_name})
        return cur.fetchone()[0]
