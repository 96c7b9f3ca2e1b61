"""The state of each window of a range, from its markers: done, failed, missing or still open."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg2

from storepipe import config
from storepipe.errors import StorepipeError
from storepipe.ops import plan as version_plan
from storepipe.sources import customer_log
from storepipe.tasks import capture, completeness
from storepipe.tasks.run import RunWindow
from storepipe.transform import publish
from storepipe.warehouse import db, failures, ledger, markers, segments
from storepipe.warehouse.markers import LOAD, TRANSFORM, marker_name, step_of
from storepipe.window import Window, closed_until


@dataclass(frozen=True)
class WindowState:
    window: Window
    state: str  # done, failed, missing, or open (not closed yet)
    markers: int  # how many of the tree's markers exist
    rows: dict[str, int]  # row count per marker, for the loads and the marts
    error: str | None = None
    late: str | None = None  # objects that came after the window's extract: re-opened, or too late
    stale: str | None = None  # markers built by another version of their model (`storepipe plan`)


@dataclass
class Status:
    """Per window of a range: done / failed / missing, with the row counts its markers recorded."""

    states: list[WindowState]
    columns: list[str]
    marker_total: int


def status(windows: Sequence[Window], *, now: dt.datetime | None = None, root: type = RunWindow) -> Status:
    """Done, failed or missing per window, from the marker tables (one query per task family, plus two)."""
    until = closed_until(now)
    closed = [w.start for w in windows if w.end <= until]
    checked = completeness.check(closed, root)
    complete = checked.complete
    failed = failures.unresolved(start for start in closed if start not in complete)
    tree_names = {name for family in checked.families for name in family.marker_names()}
    marts = [marker_name(TRANSFORM, mart.name) for mart in publish.marts()]
    columns = sorted(n for n in tree_names if step_of(n) == LOAD) + marts
    found = markers.in_range(windows[0].start, windows[-1].end) if windows else {}
    late = segments.late_in_range(windows[0].start, windows[-1].end) if windows else {}
    versions = version_plan.judged(windows) if windows else None
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
                _late_note(late.get(window.start, [])),
                _stale_note(versions, window.start) if versions else None,
            )
        )
    return Status(states, columns, len(tree_names))


@dataclass(frozen=True)
class CaptureState:
    """The customer change capture as `storepipe status` shows it."""

    mode: str  # [customer_db] capture: log or query
    slot: str | None = None
    state: str = ""  # streaming, not initialized, lost, or why it is unknown
    lag_bytes: int | None = None  # WAL the slot holds on the source server
    landed_until: dt.datetime | None = None  # the log is landed and recorded up to this time (UTC)


def capture_state() -> CaptureState:
    """The slot's state and lag and how far the log is landed; never fails (a source that is down is a state)."""
    mode = config.customer_db().capture
    if mode != "log":
        return CaptureState(mode)
    slot = capture.slot_name()
    try:
        found = customer_log.slot_state(config.customer_db().capture_url, slot)
    except StorepipeError as err:
        return CaptureState(mode, slot, f"unknown: {err.line()}")
    except psycopg2.Error as err:  # a query refused (a role without the catalog's access, a timeout)
        return CaptureState(mode, slot, f"unknown: {str(err).strip().splitlines()[0]}")
    if found is None:
        return CaptureState(mode, slot, "not initialized")
    if found["lost"]:
        return CaptureState(mode, slot, "lost")
    try:
        with db.transaction() as cur:
            landed = ledger.read_until(cur, slot)
    except StorepipeError:
        landed = None
    return CaptureState(mode, slot, "streaming", found["lag_bytes"], landed)


def _late_note(objects: list[tuple]) -> str | None:
    """`re-opened 2024-01-01 10:07 (2 late objects)` / `1 late object past the look-back`."""
    if not objects:
        return None
    reopened = [found_at for _, action, found_at in objects if action == "reopened"]
    too_late = len(objects) - len(reopened)
    notes = [f"re-opened {max(reopened):%Y-%m-%d %H:%M} ({len(reopened)} late objects)"] if reopened else []
    if too_late:
        notes.append(f"{too_late} late objects past the look-back (backfill --force the window)")
    return "; ".join(notes)


def _stale_note(versions: version_plan.VersionPlan, start: dt.datetime) -> str | None:
    """`stale: stg_orders, fct_orders, publish (storepipe plan)`: built by another version of a model."""
    names = sorted(versions.stale.get(start, ()))
    unknown = sorted(name for name, starts in versions.unknown.items() if start in starts)
    notes = [f"stale: {', '.join(n.partition(':')[2] or n for n in names)}"] if names else []
    if unknown:
        notes.append(f"{len(unknown)} of unknown version")
    return "; ".join(notes) + " (storepipe plan)" if notes else None
