"""What a source yields (a row, a `Rejected`, a `Block`) and the registry of sources; no storage in it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import luigi

from storepipe import config

RAW_LIMIT = 2000  # characters of the offending text kept, enough to see what was wrong
REJECTED = "rejected"  # the row is set aside; it counts against the source's max_bad_share
FLAGGED = "flagged"  # the row loads as it is; the note says what is odd about it
QUARANTINE_COLUMNS = ("source", "location", "reason", "raw", "action")  # storepipe.quarantine, and the rejects CSV
INT4 = (-(2**31), 2**31 - 1)  # customer ids are PostgreSQL integers in every store.* table
# fmt: off
STATE_CODES = (  # the 27 federative units of Brazil, as in the warehouse's store.states (migration 0002)
    "AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
    "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO",
)
# fmt: on


class Rejected(NamedTuple):
    """A record set aside (or flagged) with where it came from and why."""

    location: str
    reason: str
    raw: str
    action: str = REJECTED
    fails_window: bool = False  # set aside, and the window cannot complete until the source is fixed

    def as_row(self, source: str) -> tuple:
        """The record as a row of QUARANTINE_COLUMNS."""
        raw = self.raw if len(self.raw) <= RAW_LIMIT else self.raw[:RAW_LIMIT] + "…"
        return source, _printable(self.location), _printable(self.reason), _printable(raw), self.action


def _printable(text: str) -> str:
    """Undecodable bytes (kept as surrogates) shown as \\xNN; NUL as \\x00, which PostgreSQL text cannot hold."""
    if text.isascii() and "\x00" not in text:
        return text
    shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return shown.replace("\x00", "\\x00")


@dataclass(frozen=True)
class Block:
    """Valid rows already in CSV form, written as they are: one per "\n"-ended line, none needing
    quotes (the line ends become the lake's), or, `encoded`, exactly the bytes the lake's CSV writer
    would write for them (quotes and "\r\n" line ends included)."""

    data: bytes
    rows: int
    encoded: bool = False


@dataclass(frozen=True)
class Source:
    """One source system: the columns its rows carry, the store.* table they load into, its luigi.cfg section."""

    name: str
    columns: tuple[str, ...]
    table: str
    settings: type[luigi.Config]

    @property
    def max_bad_share(self) -> float:
        return self.settings().max_bad_share


CUSTOMERS = Source(
    "customers",
    ("customer_id", "first_name", "last_name", "state_code", "datetime_created", "datetime_updated"),
    "customers",
    config.customer_db,
)
ORDERS = Source(
    "orders", ("order_id", "customer_id", "item_id", "item_name", "delivered_on"), "orders", config.orders_bucket
)
RISK_SCORES = Source(
    "risk_scores", ("customer_id", "risk_score", "assessed_at"), "customer_risk_score", config.risk_api
)
SOURCES = {source.name: source for source in (CUSTOMERS, ORDERS, RISK_SCORES)}
