"""Completeness of a window's whole task tree over many windows: one query per task family.

Luigi never looks below a complete task, so a window whose root is complete while a task below it
is not (a marker deleted by hand, a family added later) would never be repaired; `roots` names those.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import luigi

from storepipe.tasks.base import WindowTask
from storepipe.warehouse import markers
from storepipe.window import Window, Windows, runs_of, window_minutes

# a task tree's shape does not depend on its window, so any closed window stands in to walk it
_TEMPLATE_START = dt.datetime(2000, 1, 1)


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

    def incomplete(self, runs: Sequence[Windows], after: dt.datetime | None = None) -> set[dt.datetime]:
        """The windows of `runs` where some instance is not complete (not rebuilt since `after`, if
        given); one query for a marker-completed family, whatever the runs' length."""
        if not runs:
            return set()
        if _completes_by_markers(self.cls):
            return markers.incomplete(self.marker_names(), runs, after)
        starts = [start for run in runs for start in run.starts()]
        done = set(starts)
        for task in self.tasks:
            fixed = {name: value for name, value in task.param_kwargs.items() if name != "window"}
            if "rebuild_after" in fixed:
                fixed["rebuild_after"] = after
            try:
                found = self.cls.bulk_complete.__func__(functools.partial(self.cls, **fixed), sorted(done))
            except NotImplementedError:
                found = [s for s in done if task.clone(window=Window(s, window_minutes())).complete()]
            done &= set(found)
        return set(starts) - done


def _completes_by_markers(cls: type) -> bool:
    """Complete exactly when every one of `marker_names()` exists, as WindowTask defines it."""
    return (
        issubclass(cls, WindowTask)
        and cls.complete is WindowTask.complete
        and cls.bulk_complete.__func__ is WindowTask.bulk_complete.__func__
    )


def families(root: type) -> list[Family]:
    """Every task family of one window's tree, the root's first, found by walking `requires()`."""
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
    """For each task family of the tree, the windows of the checked runs where it is not complete.

    It holds what is missing, not what is done: a year of complete windows is a few empty sets.
    """

    families: list[Family]
    runs: list[Windows]
    missing: dict[str, set[dt.datetime]]

    @cached_property
    def incomplete(self) -> set[dt.datetime]:
        """The windows where some task of the tree is not complete."""
        return set().union(*self.missing.values())

    @property
    def total(self) -> int:
        return sum(len(run) for run in self.runs)

    @property
    def complete_count(self) -> int:
        return self.total - len(self.incomplete)

    @property
    def complete(self) -> set[dt.datetime]:
        """Every complete window's start, made one by one: for short ranges (and tests)."""
        return {start for run in self.runs for start in run.starts() if start not in self.incomplete}

    def incomplete_families(self, start: dt.datetime) -> list[Family]:
        return [family for family in self.families if start in self.missing[family.name]]


def check(windows: Windows | Iterable, root: type, after: dt.datetime | None = None) -> Completeness:
    """Completeness of the whole tree over many windows (a `Windows` range, or windows or starts),
    rebuilt since `after` if given: one query per task family, whatever the range's length."""
    found, runs = families(root), runs_of(windows)
    return Completeness(found, runs, {family.name: family.incomplete(runs, after) for family in found})


def roots(window: Window, completeness: Completeness) -> list[luigi.Task]:
    """The tasks to hand Luigi for a window: its root, plus what is missing below a root that is complete."""
    root_family = completeness.families[0]
    root = root_family.tasks[0].clone(window=window)
    if window.start in completeness.missing[root_family.name]:
        return [root]
    below = completeness.incomplete_families(window.start)
    return [root] + [task.clone(window=window) for family in below for task in family.tasks]
