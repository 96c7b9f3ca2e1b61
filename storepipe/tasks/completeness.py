"""Completeness of a window's whole task tree over many windows: one query per task family.

Luigi never looks below a complete task, so a window whose root is complete while a task below it
is not (a marker deleted by hand, a family added later) would never be repaired; `roots` names those.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import luigi

from storepipe.tasks.base import WindowTask
from storepipe.warehouse import markers
from storepipe.window import Window, window_minutes

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

    def complete_starts(self, starts: Sequence[dt.datetime], after: dt.datetime | None = None) -> set[dt.datetime]:
        """The windows among `starts` where every instance is complete (rebuilt since `after`, if given);
        one query for a marker-completed family."""
        if not starts:
            return set()
        if _completes_by_markers(self.cls):
            return markers.done_windows(self.marker_names(), starts, after)
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
        return done


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
    """For each task family of the tree, the windows of a range where it is complete."""

    families: list[Family]
    done: dict[str, set[dt.datetime]]

    @property
    def complete(self) -> set[dt.datetime]:
        sets = list(self.done.values())
        return set.intersection(*sets) if sets else set()

    def incomplete_families(self, start: dt.datetime) -> list[Family]:
        return [family for family in self.families if start not in self.done[family.name]]


def check(starts: Sequence[dt.datetime], root: type, after: dt.datetime | None = None) -> Completeness:
    """Completeness of the whole tree over many windows (rebuilt since `after`, if given): one query per
    task family, whatever the range's length."""
    found = families(root)
    return Completeness(found, {family.name: family.complete_starts(list(starts), after) for family in found})


def roots(window: Window, completeness: Completeness) -> list[luigi.Task]:
    """The tasks to hand Luigi for a window: its root, plus what is missing below a root that is complete."""
    root_family = completeness.families[0]
    root = root_family.tasks[0].clone(window=window)
    if window.start not in completeness.done[root_family.name]:
        return [root]
    below = completeness.incomplete_families(window.start)
    return [root] + [task.clone(window=window) for family in below for task in family.tasks]
