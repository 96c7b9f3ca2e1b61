"""Extract tasks: land one window of each source in the lake; marker `extract:<source>`."""

from __future__ import annotations

import logging

from storepipe import config
from storepipe.errors import StorepipeError, TooManyBadRows, UnreadableFile
from storepipe.lake import landing
from storepipe.lake.objects import Lake
from storepipe.rows import CUSTOMERS, ORDERS, RISK_SCORES, Source
from storepipe.sources import customer_db, orders_bucket, risk_api
from storepipe.tasks import capture
from storepipe.tasks.base import WindowTask
from storepipe.warehouse import ledger, quarantine
from storepipe.warehouse.markers import EXTRACT, marker_name
from storepipe.window import grace

log = logging.getLogger(__name__)
QUERY_BLIND_SPOTS = (
    "[customer_db] capture = query: customers are read as the source holds them when a window runs;"
    " superseded versions, deletes and late commits are not seen"
)


class _Extract(WindowTask):
    source: Source

    def marker_name(self) -> str:
        return marker_name(EXTRACT, self.source.name)

    def rows(self):
        raise NotImplementedError

    def run(self):
        lake, name = Lake(), self.source.name
        with self.claim() as cur:
            if cur is None:
                return
            try:
                landed = landing.land(
                    self.window, name, self.rows(), list(self.source.columns), lake, self.source.max_bad_share
                )
            except (TooManyBadRows, UnreadableFile):
                # the rejects object is in the lake: show its rows in `storepipe quarantine`
                rejects_key = landing.keys(name, self.window)[1]
                quarantine.record_failed_window(self.window, name, lambda: lake.open(rejects_key))
                raise
            self.output().touch(cur, landed.rows, landed.checksum, landed.key)


class ExtractCustomers(_Extract):
    """The window's customer changes from the log → lake segments `customers/…/segment=…csv` (the capture
    lands them); marker `extract:customers` with their count and checksum. With `capture = query`, the
    customers changed in the window → lake `customers/…/customers.csv`."""

    source = CUSTOMERS

    def rows(self):
        return customer_db.iter_customers(self.window)

    def run(self):
        if config.customer_db().capture == "query":
            log.warning(QUERY_BLIND_SPOTS)
            super().run()
            return
        capture.run()
        slot = capture.slot_name()
        with self.claim() as cur:
            if cur is None:
                return
            capture.lock(cur, slot)
            read_until = ledger.read_until(cur, slot)
            if read_until is None or read_until < self.window.end + grace():
                raise StorepipeError(
                    f"the customer change log is landed only up to {read_until or 'nothing'}",
                    f"window {self.window.label}",
                    "re-run once the capture has read past the window's end plus [window] grace",
                )
            segments = ledger.window_segments(cur, slot, self.window)
            rows = sum(segment[2] for segment in segments)
            self.output().touch(cur, rows, ledger.segment_set_checksum(segments), f"{len(segments)} segments")


class ExtractOrders(_Extract):
    """Order CSV objects filed under the window's minutes → lake `orders/…/orders.csv`; marker `extract:orders`."""

    source = ORDERS

    def rows(self):
        return orders_bucket.iter_orders(self.window)


class ExtractRiskScores(_Extract):
    """Risk scores assessed in the window → lake `risk_scores/…/risk_scores.csv`; marker `extract:risk_scores`."""

    source = RISK_SCORES

    def rows(self):
        return risk_api.iter_risk_scores(self.window)


EXTRACTS = {cls.source.name: cls for cls in (ExtractCustomers, ExtractOrders, ExtractRiskScores)}
