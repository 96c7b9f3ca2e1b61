"""The time window every task is parameterized by: half-open [start, start + minutes), naive UTC."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import luigi

from storepipe import config
from storepipe.errors import WindowError

LABEL_FORMAT = "%Y-%m-%dT%H:%M"
LUIGI_FORMAT = "%Y-%m-%dT%H%M"
_EPOCH = dt.datetime(1970, 1, 1)


def utcnow() -> dt.datetime:
    """The one place that reads the clock: naive UTC, to compare with windows."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True, order=True)
class Window:
    start: dt.datetime
    minutes: int = 5

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(minutes=self.minutes)

    @property
    def label(self) -> str:
        return self.start.strftime(LABEL_FORMAT)

    def sql_params(self) -> dict:
        return {"window_start": self.start, "window_end": self.end}

    def next(self) -> Window:
        return Window(self.end, self.minutes)

    def __str__(self) -> str:
        return self.label

    @classmethod
    def parse(cls, text: str, minutes: int) -> Window:
        """Parse `2024-01-01T10:00` (or Luigi's `2024-01-01T1000`) into a window on the interval grid."""
        return cls.of(parse_datetime(text), minutes)

    @classmethod
    def of(cls, start: dt.datetime, minutes: int) -> Window:
        """Wrap a start, refusing one off the interval boundary instead of flooring it."""
        if start.tzinfo is not None:
            start = start.astimezone(dt.timezone.utc).replace(tzinfo=None)
        if minutes <= 0 or (24 * 60) % minutes:
            raise WindowError(
                f"window interval of {minutes} minutes does not divide a day",
                "[window] minutes",
                "use 1, 5, 10, 15, 30 or 60",
            )
        offset = (start - _EPOCH).total_seconds()
        if offset % (minutes * 60):
            floor = start - dt.timedelta(seconds=offset % (minutes * 60))
            raise WindowError(
                f"window {start:%Y-%m-%dT%H:%M:%S} is not on a {minutes}-minute boundary",
                "--window",
                f"use {floor:{LABEL_FORMAT}}",
            )
        return cls(start, minutes)

    def require_closed(self, now: dt.datetime | None = None) -> Window:
        """The window, if its end plus the grace period ([window] grace) has passed; else one line."""
        now = now or utcnow()
        closes = self.end + grace()
        if closes > now:
            raise WindowError(
                f"window {self.label} is not closed yet (it ends at {self.end:%H:%M} UTC"
                f" and closes {_seconds(grace())} s later, at {closes:%H:%M:%S})",
                "--window",
                "run it after it closes, or pick an earlier window",
            )
        return self

    def range_to(self, stop: Window | dt.datetime) -> Windows:
        """This window and the ones after it that start before `stop`."""
        return Windows(self.start, stop.start if isinstance(stop, Window) else stop, self.minutes)


class Windows(Sequence):
    """Consecutive windows, `first` up to `stop` (exclusive): a year of them is three values, not
    105,120 objects, and is handed to SQL as its bounds. Indexing, slicing and iterating make the
    `Window`s on demand; it equals any sequence of the same windows."""

    __slots__ = ("first", "minutes", "stop")

    def __init__(self, first: dt.datetime, stop: dt.datetime, minutes: int = 5):
        step = dt.timedelta(minutes=minutes)
        count = max(0, -(-(stop - first) // step))  # a stop off the grid ends after the window holding it
        self.first, self.stop, self.minutes = first, first + count * step, minutes

    @property
    def step(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.minutes)

    def __len__(self) -> int:
        return (self.stop - self.first) // self.step

    def __getitem__(self, index):
        count = len(self)
        if isinstance(index, slice):
            start, stop, stride = index.indices(count)
            if stride != 1:
                return [self[i] for i in range(start, stop, stride)]
            return Windows(self.first + start * self.step, self.first + max(start, stop) * self.step, self.minutes)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError("window index out of range")
        return Window(self.first + index * self.step, self.minutes)

    def __iter__(self) -> Iterator[Window]:
        return (Window(start, self.minutes) for start in self.starts())

    def starts(self) -> Iterator[dt.datetime]:
        start, step = self.first, self.step
        while start < self.stop:
            yield start
            start += step

    def __contains__(self, item) -> bool:
        start = item.start if isinstance(item, Window) else item
        if isinstance(item, Window) and item.minutes != self.minutes:
            return False
        return self.first <= start < self.stop and not (start - self.first) % self.step

    def __eq__(self, other) -> bool:
        if isinstance(other, Windows):
            return (self.first, self.stop, self.minutes) == (other.first, other.stop, other.minutes) or (
                not self and not other
            )
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.first, self.stop, self.minutes)) if self else 0

    def __repr__(self) -> str:
        return f"Windows({self.first:{LABEL_FORMAT}} .. {self.stop:{LABEL_FORMAT}}, {len(self)} of {self.minutes} min)"


def runs_of(windows: Windows | Iterable, minutes: int | None = None) -> list[Windows]:
    """Windows (or window starts) as runs of consecutive windows, in order: a year with a hole is two
    runs, scattered windows one run each; a `Windows`, or a list of them, is runs already."""
    if isinstance(windows, Windows):
        return [windows] if windows else []
    items = list(windows)
    if all(isinstance(item, Windows) for item in items):
        return [item for item in items if item]
    minutes = minutes or window_minutes()
    step = dt.timedelta(minutes=minutes)
    runs: list[Windows] = []
    first = last = None
    for start in sorted({w.start if isinstance(w, Window) else w for w in items}):
        if last is not None and start - last == step:
            last = start
            continue
        if first is not None:
            runs.append(Windows(first, last + step, minutes))
        first = last = start
    if first is not None:
        runs.append(Windows(first, last + step, minutes))
    return runs


def parse_datetime(text: str) -> dt.datetime:
    text = text.strip()
    for attempt in (dt.datetime.fromisoformat, lambda s: dt.datetime.strptime(s, LUIGI_FORMAT)):
        try:
            value = attempt(text)
        except ValueError:
            continue
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value
    raise WindowError(
        f"cannot read window {text!r}",
        "--window",
        "write it as 2024-01-01T10:00 (UTC)",
    )


class WindowParameter(luigi.Parameter):
    """A Luigi parameter whose value is a closed `Window` on the configured interval grid.

    It accepts `2024-01-01T10:00`, `2024-01-01T1000` and the naive datetimes that
    `RangeByMinutes` passes, and refuses (never floors) a start off the grid.
    """

    def parse(self, x):
        return parse_datetime(x)

    def serialize(self, x):
        return x.label if isinstance(x, Window) else x.strftime(LABEL_FORMAT)

    def normalize(self, x):
        if x is None or (isinstance(x, Window) and x.minutes == window_minutes()):
            return x if x is None else x.require_closed()
        start = x.start if isinstance(x, Window) else x
        if isinstance(start, str):
            start = parse_datetime(start)
        if not isinstance(start, dt.datetime):
            start = dt.datetime.combine(start, dt.time.min)
        return Window.of(start, window_minutes()).require_closed()

    def next_in_enumeration(self, value):
        return value.next()

    def _warn_on_wrong_param_type(self, param_name, param_value):
        pass


def window_minutes() -> int:
    return config.window().minutes


def grace() -> dt.timedelta:
    """How long after its end a window still counts as open ([window] grace)."""
    return config.window().grace


def _seconds(delta: dt.timedelta) -> int:
    return int(delta.total_seconds())


# --- the grid of windows ---------------------------------------------------------------------------


def closed_until(now: dt.datetime | None = None) -> dt.datetime:
    """The end of the newest closed window: now less the grace period, floored to the window grid."""
    now = (now or utcnow()) - grace()
    step = window_minutes() * 60
    seconds = int((now - _EPOCH).total_seconds())
    return _EPOCH + dt.timedelta(seconds=seconds - seconds % step)


def window_start_of(moment: dt.datetime, minutes: int | None = None) -> dt.datetime:
    """The start of the window on the grid that holds `moment` (naive UTC); `minutes` spares a hot loop
    reading the configuration once per call."""
    step = (minutes or window_minutes()) * 60
    offset = moment - _EPOCH
    seconds = offset.days * 86400 + offset.seconds
    return _EPOCH + dt.timedelta(seconds=seconds - seconds % step)


def on_grid(moment: dt.datetime, where: str) -> dt.datetime:
    """`moment` if it is a window boundary; else one line naming the boundary before it."""
    try:
        return Window.of(moment, window_minutes()).start
    except WindowError as err:
        raise WindowError(err.what, where, err.todo) from None


def grid_windows(first: dt.datetime, stop: dt.datetime) -> Windows:
    """Every window starting in [first, stop), on the window grid."""
    minutes = window_minutes()
    step = minutes * 60
    seconds = (first - _EPOCH).total_seconds()
    start = _EPOCH + dt.timedelta(seconds=-(-seconds // step) * step)
    return Window(start, minutes).range_to(stop)
