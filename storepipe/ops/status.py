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
from storepipe.window import Window, Windows, closed_until


@dataclass(frozen=True)
class WindowState:
    window: Window
    state: str  # done, failed, missing, or open (not closed yet)
    markers: int  # how many of the tree's markers exist
    rows: dict[str, int]  # row count per marker, for the loads and the marts
    error: str | None = None
    late: str | None = None  # objects that came after the window's extract: re-opened, or too late
    stale: str | None = None  # markers built by another version of their model (`storepipe plan`)


@dataclass(frozen=True)
class RunState:
    """Consecutive windows in the same state with the same notes, shown as one entry (ranges longer than a day)."""

    windows: Windows
    state: str
    error: str | None = None
    late: str | None = None
    stale: str | None = None


@dataclass
class Status:
    """Per window of a range: done / failed / missing / open, with the row counts its markers recorded.

    A range longer than a day shows each run of windows in one state as one `RunState`, so a year
    of complete windows is one entry, found without making a year of objects or reading its rows.
    """

    entries: list[WindowState | RunState]
    columns: list[str]
    marker_total: int
    counts: dict[str, int]  # windows per state: done, failed, missing, open
    missing: list[dt.datetime]  # the starts of the missing windows, in order
    stale: int  # windows built by another version of a model

    @property
    def windows(self) -> int:
        return sum(self.counts.values())


def status(windows: Sequence[Window], *, now: dt.datetime | None = None, root: type = RunWindow) -> Status:
    """Done, failed or missing per window, from the marker tables (one query per task family, plus a few)."""
    until = closed_until(now)  # a window starting here or later is still open
    closed = _closed(windows, until)
    checked = completeness.check(closed, root)
    incomplete = checked.incomplete
    failed = failures.unresolved(sorted(incomplete))
    tree_names = {name for family in checked.families for name in family.marker_names()}
    marts = [marker_name(TRANSFORM, mart.name) for mart in publish.marts()]
    columns = sorted(n for n in tree_names if step_of(n) == LOAD) + marts
    late = segments.late_in_range(windows[0].start, windows[-1].end) if windows else {}
    versions = version_plan.judged(windows) if windows else None
    noted = _version_noted(versions) if versions else set()
    within = windows.__contains__ if isinstance(windows, Windows) else {w.start for w in windows}.__contains__

    def state_of(start: dt.datetime) -> tuple[str, str | None, str | None, str | None]:
        if start >= until:
            state = "open"
        elif start not in incomplete:
            state = "done"
        else:
            state = "failed" if start in failed else "missing"
        stale = _stale_note(versions, start) if start in noted else None
        return state, failed.get(start), _late_note(late.get(start, [])), stale

    if isinstance(windows, Windows) and len(windows) > _windows_a_day(windows.minutes):
        # only the windows with something to say are judged one by one; the others are done, or open
        said = sorted(incomplete | {start for start in late.keys() | noted if start in closed})
        groups = _runs(windows, closed, said, state_of)
    else:
        groups = [(Windows(w.start, w.end, w.minutes), state_of(w.start)) for w in windows]
    found = markers.in_windows(tree_names | set(columns), [run.first for run, _ in groups if len(run) == 1])
    entries: list[WindowState | RunState] = []
    for run, (state, error, late_note, stale_note) in groups:
        if len(run) > 1:
            entries.append(RunState(run, state, error, late_note, stale_note))
            continue
        present = found.get(run.first, {})
        rows = {name: present[name] for name in columns if name in present}
        entries.append(WindowState(run[0], state, len(tree_names & present.keys()), rows, error, late_note, stale_note))
    counts = {
        "done": checked.complete_count,
        "failed": len(failed),
        "missing": len(incomplete) - len(failed),
        "open": len(windows) - checked.total,
    }
    stale = sum(1 for start in versions.stale if within(start)) if versions else 0
    return Status(entries, columns, len(tree_names), counts, sorted(incomplete - failed.keys()), stale)


def _closed(windows: Sequence[Window], until: dt.datetime) -> Windows | list[Window]:
    """The windows of `windows` that are closed (a range's are a range)."""
    if isinstance(windows, Windows):
        return Windows(windows.first, min(windows.stop, max(windows.first, until)), windows.minutes)
    return [window for window in windows if window.start < until]


def _windows_a_day(minutes: int) -> int:
    return 24 * 60 // minutes


def _runs(windows: Windows, closed: Windows, said: list[dt.datetime], state_of) -> list[tuple[Windows, tuple]]:
    """The range as runs of consecutive windows in the same state with the same notes: the closed
    windows in `said` are judged by `state_of`, the other closed ones are done with nothing to say,
    and the rest of the range is open."""
    groups: list[tuple[Windows, tuple]] = []

    def add(first: dt.datetime, stop: dt.datetime, key: tuple) -> None:
        if groups and groups[-1][1] == key and groups[-1][0].stop == first:
            groups[-1] = (Windows(groups[-1][0].first, stop, windows.minutes), key)
        elif first < stop:
            groups.append((Windows(first, stop, windows.minutes), key))

    cursor = closed.first
    for start in said:
        add(cursor, start, ("done", None, None, None))
        cursor = start + windows.step
        add(start, cursor, state_of(start))
    add(cursor, closed.stop, ("done", None, None, None))
    add(closed.stop, windows.stop, ("open", None, None, None))
    return groups


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


def _version_noted(versions: version_plan.VersionPlan) -> set[dt.datetime]:
    """The windows with a version note: some marker stale, or of unknown version."""
    return set(versions.stale).union(*versions.unknown.values())


def _stale_note(versions: version_plan.VersionPlan, start: dt.datetime) -> str | None:
    """`stale: stg_customers, dim_customers, publish (storepipe plan)`: built by another version of a model."""
    names = sorted(versions.stale.get(start, ()))
    unknown = sorted(name for name, starts in versions.unknown.items() if start in starts)
    notes = [f"stale: {', '.join(n.partition(':')[2] or n for n in names)}"] if names else []
    if unknown:
        notes.append(f"{len(unknown)} of unknown version")
    return "; ".join(notes) + " (storepipe plan)" if notes else None
