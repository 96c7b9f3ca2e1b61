"""Extract tasks: land one window of each source in the lake; marker `extract:<source>`."""

from __future__ import annotations

from storepipe.errors import TooManyBadRows, UnreadableFile
from storepipe.lake import landing
from storepipe.lake.objects import Lake
from storepipe.rows import CUSTOMERS, ORDERS, RISK_SCORES, Source
from storepipe.sources import customer_db, orders_bucket, risk_api
from storepipe.tasks.base import WindowTask
from storepipe.warehouse import quarantine
from storepipe.warehouse.markers import EXTRACT, marker_name


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
    """Customers changed in the window → lake `customers/…/customers.csv`; marker `extract:customers`."""

    source = CUSTOMERS

    def rows(self):
        return customer_db.iter_customers(self.window)


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
