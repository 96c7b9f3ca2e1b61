"""WindowTask: the window parameter, the marker output, one-query bulk completeness, the claim and the failure hook."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import luigi

from storepipe import config, sqlfiles
from storepipe.errors import InputReopened, StorepipeError
from storepipe.transform import models
from storepipe.warehouse import db, failures, markers
from storepipe.warehouse.markers import MarkerTarget
from storepipe.window import Window, WindowParameter

log = logging.getLogger(__name__)


class InstantParameter(luigi.Parameter):
    """An instant to the microsecond, naive UTC (`2026-12-01T10:07:01.123456`): a rebuild's start must not be
    floored to the second, or markers written earlier in that second would count as rebuilt."""

    def parse(self, x):
        return dt.datetime.fromisoformat(x) if x else None

    def serialize(self, x):
        return "" if x is None else x.isoformat()

    def normalize(self, x):
        return self.parse(x) if isinstance(x, str) else x


class WindowTask(luigi.Task):
    window = WindowParameter(description="Window start, e.g. 2024-01-01T10:00 (UTC; half-open, [window] minutes long).")
    rebuild_after = InstantParameter(
        default=None,
        description="Rebuild: count only markers written at or after this warehouse time (UTC), so every"
        " task of the window runs again; `storepipe backfill --force` sets it. Markers are replaced, never"
        " deleted, so a run racing the rebuild never finds a task's input gone.",
    )

    rebuild_only = luigi.ListParameter(
        default=(),
        description="With rebuild_after: the markers to rebuild (e.g. `transform:stg_customers`, `publish`);"
        " the other tasks of the window count as done when their marker exists. Empty: every task."
        " `storepipe plan --apply` sets it, so a changed model rebuilds only what is at or below it.",
    )

    def below(self, cls: type[luigi.Task], **params) -> luigi.Task:
        """A task this one requires: same window, same rebuild."""
        return cls(window=self.window, rebuild_after=self.rebuild_after, rebuild_only=self.rebuild_only, **params)

    @property
    def rebuilt_after(self) -> dt.datetime | None:
        """The instant after which this task's marker must be written to count (None: any marker counts)."""
        if self.rebuild_only and self.marker_name() not in self.rebuild_only:
            return None
        return self.rebuild_after

    def marker_names(self) -> list[str]:
        """The markers that together say this task is done for its window."""
        return [self.marker_name()]

    def marker_name(self) -> str:
        raise NotImplementedError

    def output(self) -> MarkerTarget:
        return MarkerTarget(self.marker_name(), self.window, self.task_id, self.rebuilt_after)

    def complete(self) -> bool:
        return markers.done(self.marker_names(), self.window.start, self.rebuilt_after)

    @classmethod
    def bulk_complete(cls, parameter_tuples):
        """The complete ones among many windows, in one query (`cls` may be a functools.partial)."""
        values = list(parameter_tuples)  # range tools pass a one-shot iterator
        if not values:
            return []
        starts = {(v.start if isinstance(v, Window) else v): v for v in values}
        template = cls(values[0])
        done = markers.done_windows(template.marker_names(), list(starts), template.rebuilt_after)
        return [value for start, value in starts.items() if start in done]

    def on_failure(self, exception: BaseException) -> str:
        """What luigid, the visualiser and a failure alert show: the window, the task and the one-line reason.

        Luigi's default is the traceback; it stays in the worker's log, where it is read by whoever fixes the code.
        """
        return failure_line(self.window, self.marker_name(), exception)

    @contextmanager
    def claim(self) -> Iterator[object | None]:
        """Hold this task's lock for one transaction; yields None if another worker finished it meanwhile.

        The markers of the task's inputs are held too (FOR KEY SHARE) until it commits, so that the
        capture, which re-opens a window by deleting the markers built on its customers, deletes them
        only after this task's marker is in, and deletes that one as well; an input re-opened before
        this task got here fails it with `InputReopened`, and the window runs again.
        """
        with db.transaction() as cur:
            db.lock(cur, markers.claim_lock(self.marker_name(), self.window))
            if self.output().exists_in(cur):
                log.info("%s was completed by another worker; nothing to do", self)
                yield None
                return
            self.locks(cur)
            self._hold_inputs(cur)
            yield cur

    def locks(self, cur) -> None:
        """Locks this task takes before its inputs are held (none; the customers' tasks take the capture's)."""

    def _hold_inputs(self, cur) -> None:
        wanted = marker_order({name for task in luigi.task.flatten(self.requires()) for name in task.marker_names()})
        if not wanted:
            return
        cur.execute(sqlfiles.load("pipeline/markers/hold"), {"task_names": wanted, "window_start": self.window.start})
        held = {row[0] for row in cur.fetchall()}
        missing = [name for name in wanted if name not in held]
        if missing:
            raise InputReopened(
                f"{missing[0]} was re-opened (a late change landed) after {self.marker_name()} was scheduled",
                f"window {self.window.label}",
                "nothing was written; the window's next run rebuilds it",
            )


def marker_order(names) -> list[str]:
    """Markers in the one order tasks hold them and the capture deletes them (extract, load, transforms in
    model dependency order, publish): as both take row locks in it, neither waits for the other in a circle."""
    steps = {markers.EXTRACT: 0, markers.LOAD: 1, markers.TRANSFORM: 2, markers.PUBLISH: 3}
    rank = {markers.marker_name(markers.TRANSFORM, name): i for i, name in enumerate(models.discover())}
    return sorted(names, key=lambda name: (steps[markers.step_of(name)], rank.get(name, len(rank)), name))


def failure_line(window: Window, task_name: str, error: BaseException) -> str:
    """`window 2024-01-01T10:00 failed: extract:orders: <why>`: the words of `storepipe backfill`'s own
    failure lines, with the reason `storepipe.task_failures` records."""
    return f"window {window.label} failed: {task_name}: {failures.describe(error)}"


@WindowTask.event_handler(luigi.Event.FAILURE)
def _remember_failure(task, error):
    """Record which task of which window failed, for `storepipe status` and `storepipe backfill --dry-run`;
    a re-opened input is no failure: the window is simply not done, and the next run does it."""
    if isinstance(error, InputReopened):
        log.warning("storepipe: %s", error.line())
        return
    failures.record(task.marker_name(), task.window.start, task.task_id, error)


class _OneLineUserErrors(logging.Filter):
    """Show a StorepipeError that reaches the `luigi` command as one line instead of a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, StorepipeError):
            record.msg, record.args = "storepipe: %s", (error.line(),)
            record.exc_info = record.exc_text = None
        return True


logging.getLogger("luigi-interface").addFilter(_OneLineUserErrors())
# a failing task mails through Luigi's notifications when the environment names a receiver
config.apply_alert_settings()
