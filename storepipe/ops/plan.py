"""`storepipe plan`: which windows of a range were built by another version of a model, and rebuilding
exactly those, with only the tasks at or below the change (no extract or load runs again).

Staleness is judged per (marker, version) pair, not per window: the stale markers of a range come
from one query, and each distinct old version is compared with the current one once, through the
versions kept in storepipe.model_versions (what each was combined with). A change whose model says
`-- changes: forward-only` keeps the windows built before it; new windows use it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from storepipe import config
from storepipe.ops import backfill
from storepipe.ops.backfill import Progress
from storepipe.tasks.publish import PublishMarts
from storepipe.tasks.transform import TransformModel
from storepipe.transform import materialize, models, versions
from storepipe.transform.versions import Version
from storepipe.warehouse import db, failures, markers, model_versions
from storepipe.warehouse.markers import PUBLISH, TRANSFORM
from storepipe.warehouse.model_versions import Stored
from storepipe.window import LABEL_FORMAT, Window, window_minutes

STALE, KEPT, UNKNOWN = "stale", "forward-only", "unknown"


@dataclass
class Change:
    """A node whose own SQL changed, and the windows of each marker it reaches."""

    node: str
    forward_only: bool
    stale: dict[str, set[dt.datetime]] = field(default_factory=dict)  # marker -> windows to rebuild
    kept: dict[str, set[dt.datetime]] = field(default_factory=dict)  # marker -> windows kept (forward-only)
    oldest: dt.datetime | None = None  # the oldest window it reaches
    old_text: str = ""  # the node's text as that window was built with it
    old_version: str | None = None
    diff: list[str] = field(default_factory=list)

    def reach(self, marker: str, verdict: str, starts: set[dt.datetime], old: Stored | None) -> None:
        (self.stale if verdict == STALE else self.kept).setdefault(marker, set()).update(starts)
        first = min(starts)
        if self.oldest is None or first < self.oldest:
            self.oldest = first
            self.old_version = old.fingerprint if old else None
            self.old_text = old.text if old else ""


@dataclass
class VersionPlan:
    """What `plan` found over a range: the windows to rebuild and, per change, what it reaches."""

    range_start: dt.datetime
    range_end: dt.datetime
    window_count: int
    stale: dict[dt.datetime, set[str]]  # window -> the markers to rebuild there
    unknown: dict[str, set[dt.datetime]]  # marker -> windows built before versions were recorded
    changes: list[Change]
    include_unknown: bool = False

    def todo(self) -> list[tuple[Window, tuple[str, ...]]]:
        """The windows to rebuild, oldest first, each with the markers to rebuild there."""
        wanted = {start: set(names) for start, names in self.stale.items()}
        if self.include_unknown:
            for name, starts in self.unknown.items():
                for start in starts:
                    wanted.setdefault(start, set()).add(name)
        minutes = window_minutes()
        # a mart's marker is rebuilt by PublishMarts: rebuilding it means rebuilding `publish`
        published = {f"{TRANSFORM}:{m.name}" for m in models.discover().values() if m.layer == "marts"} | {PUBLISH}
        return [
            (Window(start, minutes), tuple(sorted(names | {PUBLISH} if names & published else names)))
            for start, names in sorted(wanted.items())
        ]


def plan(windows: Sequence[Window], *, include_unknown: bool = False) -> VersionPlan:
    """The stale windows of the range: refuses a model selecting a column its table lacks, then one
    query for every versioned marker over the whole range."""
    with db.transaction() as cur:
        materialize.require_columns(cur, windows[0])
    return judged(windows, include_unknown=include_unknown)


def judged(windows: Sequence[Window], *, include_unknown: bool = False) -> VersionPlan:
    """The stale windows of the range (`plan` without its column check, for `storepipe status`)."""
    first, last = windows[0], windows[-1]
    current = versions.current()
    names = versions.versioned_markers()
    found = markers.other_versions({n: current[n].fingerprint for n in names}, first.start, last.end)
    groups: dict[tuple[str, str | None], set[dt.datetime]] = {}
    for name, start, version in found:
        groups.setdefault((name, version), set()).add(start)
    stored = model_versions.read({v for _, v in groups if v}) if groups else {}
    judge = _Judge(current, stored)
    stale: dict[dt.datetime, set[str]] = {}
    unknown: dict[str, set[dt.datetime]] = {}
    changes: dict[str, Change] = {}
    for (name, version), starts in groups.items():
        verdict, causes = judge(version, name)
        if verdict == UNKNOWN:
            unknown.setdefault(name, set()).update(starts)
            continue
        if verdict == STALE:
            for start in starts:
                stale.setdefault(start, set()).add(name)
        for cause, old in causes.items():
            change = changes.setdefault(cause, Change(cause, cause in current and current[cause].forward_only))
            change.reach(name, verdict, starts, old)
    order = {node: i for i, node in enumerate(current)}
    ordered = sorted(changes.values(), key=lambda c: order.get(c.node, len(order)))
    for change in ordered:
        # downstream in dependency order, as the plan prints them
        change.stale = dict(sorted(change.stale.items(), key=lambda item: order.get(item[0], len(order))))
        change.kept = dict(sorted(change.kept.items(), key=lambda item: order.get(item[0], len(order))))
        new = current[change.node].text if change.node in current else ""
        change.diff = _diff(change, new)
    return VersionPlan(first.start, last.end, len(windows), stale, unknown, ordered, include_unknown)


class _Judge:
    """Whether a marker built with an old version must be rebuilt, and which changed nodes say so."""

    def __init__(self, current: dict[str, Version], stored: dict[str, Stored]):
        self.current, self.stored, self.memo = current, stored, {}

    def __call__(self, old_fp: str | None, node: str) -> tuple[str, dict[str, Stored | None]]:
        if (old_fp, node) not in self.memo:
            self.memo[old_fp, node] = self._judge(old_fp, node)
        return self.memo[old_fp, node]

    def _judge(self, old_fp: str | None, node: str) -> tuple[str, dict[str, Stored | None]]:
        now = self.current[node]
        old = self.stored.get(old_fp) if old_fp else None
        if old is None:
            return UNKNOWN, {}
        causes: dict[str, Stored | None] = {}
        rebuild = False
        if old.own_hash != now.own_hash:
            causes[node] = old
            rebuild = not now.forward_only
        upstream = dict(now.upstream)
        for name, fingerprint in upstream.items():
            before = old.upstream.get(name)
            if before == fingerprint:
                continue
            if before is None:  # a check (or mart) that is new since: the window was not audited by it
                causes[name], rebuild = None, rebuild or not self.current[name].forward_only
                continue
            verdict, below = self(before, name)
            causes.update(below)
            rebuild = rebuild or verdict != KEPT
        for name in old.upstream.keys() - upstream.keys():  # removed since: nothing to re-run for it
            causes.setdefault(name, self.stored.get(old.upstream[name]))
        return (STALE if rebuild or not causes else KEPT), causes


def _diff(change: Change, new_text: str) -> list[str]:
    label = change.node.partition(":")[2] or change.node
    old_label = f"{label} @ {change.old_version[:8] if change.old_version else 'none'}"
    if change.oldest is not None:
        old_label += f" (as window {change.oldest:{LABEL_FORMAT}} was built)"
    return list(
        difflib.unified_diff(
            change.old_text.splitlines(), new_text.splitlines(), old_label, f"{label} (now)", n=1, lineterm=""
        )
    )


# --- apply ---------------------------------------------------------------------------------------------


@dataclass
class Applied:
    """How `plan --apply` went: the windows rebuilt, the ones still stale, and why they failed."""

    total: int
    progress: Progress
    failed: dict[dt.datetime, str]
    still_stale: list[dt.datetime]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.still_stale


def roots(window: Window, names: Sequence[str], after: dt.datetime) -> list:
    """The tasks that rebuild `names` for the window: PublishMarts when the marts are stale (it requires
    the stale staging models, rebuilt first), else the stale staging models; every other task of the
    window counts as done by its marker, so no extract or load runs again."""
    only = tuple(sorted(names))
    if PUBLISH in names:
        return [PublishMarts(window=window, rebuild_after=after, rebuild_only=only)]
    staging = [name.partition(":")[2] for name in only if name.startswith(f"{TRANSFORM}:")]
    return [TransformModel(window=window, model=model, rebuild_after=after, rebuild_only=only) for model in staging]


def apply(
    the_plan: VersionPlan,
    *,
    workers: int = 1,
    scheduler_url: str | None = None,
    windows_per_build: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    log_level: str = "WARNING",
) -> Applied:
    """Rebuild the plan's windows in small builds (as a backfill runs), each counting only markers
    the warehouse stamps from now on: no marker is deleted, so a run racing it never finds an input gone."""
    per_build = windows_per_build or config.backfill().windows_per_build
    todo = the_plan.todo()
    after = markers.now()
    started, done, rows = time.monotonic(), 0, 0
    progress = Progress(0, len(todo), 0, 0.0)
    for i in range(0, len(todo), max(1, per_build)):
        chunk = todo[i : i + per_build]
        tasks = [task for window, names in chunk for task in roots(window, names, after)]
        backfill._build(tasks, workers, scheduler_url, log_level)
        for names in {names for _, names in chunk}:
            starts = [w.start for w, n in chunk if n == names]
            rebuilt = markers.done_windows(names, starts, after)
            done += len(rebuilt)
            rows += markers.rows(names, sorted(rebuilt))
        progress = Progress(done, len(todo), rows, time.monotonic() - started)
        if on_progress:
            on_progress(progress)
    remaining = {start for start, _ in _still(the_plan, todo, after)}
    failed = failures.unresolved(sorted(remaining))
    return Applied(len(todo), progress, failed, sorted(remaining - failed.keys()))


def _still(the_plan: VersionPlan, todo, after: dt.datetime) -> list[tuple[dt.datetime, tuple[str, ...]]]:
    """The windows of `todo` some of whose markers were not rebuilt."""
    left = []
    for names in {names for _, names in todo}:
        starts = [w.start for w, n in todo if n == names]
        rebuilt = markers.done_windows(names, starts, after)
        left += [(start, names) for start in starts if start not in rebuilt]
    return left
