"""What a backfill shows: a progress line, Luigi's execution summary over all its builds, plan and status tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from luigi import execution_summary
from luigi.execution_summary import LuigiRunResult


@dataclass(frozen=True)
class Progress:
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

    def line(self) -> str:
        left = "" if self.remaining_s is None else f", about {_clock(self.remaining_s)} left"
        return (
            f"backfill: {self.done}/{self.total} windows done, {self.rows:,} rows loaded, "
            f"{_clock(self.elapsed_s)} elapsed{left}"
        )


def _clock(seconds: float) -> str:
    return str(dt.timedelta(seconds=round(seconds)))


def summary(builds: Sequence[LuigiRunResult]) -> str:
    """Luigi's execution summary, over every build of the backfill at once."""
    if not builds:
        return ""
    # Luigi summarises one worker; merging the per-build task sets gives the whole backfill's
    merged: dict[str, set] = {}
    for build in builds:
        for status, tasks in execution_summary._summary_dict(build.worker).items():
            merged.setdefault(status, set()).update(tasks)
    last = builds[-1].worker
    return execution_summary._summary_wrap(execution_summary._summary_format(merged, last))


def plan_table(plan) -> str:
    """A dry run: the range, and each window that would run with why (missing, failed, or forced)."""
    windows, todo = plan.windows, plan.todo
    lines = [
        f"backfill {windows[0].label} .. {windows[-1].end:%Y-%m-%dT%H:%M} (UTC): {len(windows)} windows, "
        f"{len(plan.complete)} complete, {len(todo)} to run"
        + (f", {plan.held_back} more beyond the task limit" if plan.held_back else "")
    ]
    for window in todo:
        if window.start in plan.failed:
            lines.append(f"  {window.label}  failed   {plan.failed[window.start]}")
        elif window.start in plan.complete:
            lines.append(f"  {window.label}  forced")
        else:
            lines.append(f"  {window.label}  missing")
    return "\n".join(lines)


def status_table(status) -> str:
    """`storepipe status --start ... --end ...`: one line per window, then the counts."""
    short = [name.split(":", 1)[1] for name in status.columns]
    width = [max(8, len(name)) for name in short]
    header = f"  {'window':<16}  {'state':<7}  {'markers':>7}  " + "  ".join(
        f"{name:>{w}}" for name, w in zip(short, width, strict=True)
    )
    lines = [header]
    counts: dict[str, int] = {}
    for item in status.states:
        counts[item.state] = counts.get(item.state, 0) + 1
        cells = "  ".join(f"{item.rows.get(name, '-')!s:>{w}}" for name, w in zip(status.columns, width, strict=True))
        line = f"  {item.window.label:<16}  {item.state:<7}  {item.markers:>3}/{status.marker_total:<3}  {cells}"
        if item.error:
            line += f"  {item.error}"
        lines.append(line.rstrip())
    lines.append(
        "rows: what each task wrote for the window, from its marker (the marts also rewrite the rows of"
        " other windows they re-point, e.g. the orders of a customer who changed)"
    )
    lines.append(
        f"{len(status.states)} windows: "
        + ", ".join(f"{counts.get(state, 0)} {state}" for state in ("done", "failed", "missing", "open"))
    )
    return "\n".join(lines)
