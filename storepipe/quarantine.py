"""Rejected rows: where each came from and why, kept in the lake and loaded into storepipe.quarantine."""

from __future__ import annotations

from typing import NamedTuple

from storepipe.errors import TooManyBadRows

COLUMNS = ["source", "location", "reason", "raw"]
RAW_LIMIT = 2000  # characters of the offending text kept, enough to see what was wrong


class Rejected(NamedTuple):
    location: str
    reason: str
    raw: str

    def as_row(self, source: str) -> tuple:
        raw = self.raw if len(self.raw) <= RAW_LIMIT else self.raw[:RAW_LIMIT] + "…"
        return source, self.location, self.reason, raw.replace("\x00", "\\0")


def check_share(source: str, window_label: str, good: int, bad: int, max_share: float) -> None:
    total = good + bad
    if total and bad / total > max_share:
        raise TooManyBadRows(
            f"{bad} of {total} {source} rows were rejected ({bad / total:.0%}, limit {max_share:.0%})",
            f"window {window_label}",
            f"see `storepipe quarantine --window {window_label}`, fix the source, then re-run",
        )
