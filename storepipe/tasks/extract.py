"""Extract tasks: land one window of each source in the lake; marker `extract:<source>`."""

from __future__ import annotations

from storepipe import land, quarantine
from storepipe.lake import Lake
from storepipe.sources import customer_db, orders_bucket, risk_api
from storepipe.tasks.base import WindowTask


class _Extract(WindowTask):
    source: str
    columns: list[str]

    def marker_name(self) -> str:
        return f"extract:{self.source}"

    def rows(self):
        raise NotImplementedError

    def run(self):
        with self.claim() as cur:
            if cur is None:
                return
            landed = land.land(
                self.window,
                self.source,
                self.rows(),
                self.columns,
                Lake(),
                quarantine.max_bad_share(self.source),
            )
            self.output().touch(cur, landed.rows, landed.checksum, landed.key)


class ExtractCustomers(_Extract):
    """Customers changed in the window → lake `customers/…/customers.csv`; marker `extract:customers`."""

    source, columns = "customers", customer_db.COLUMNS

    def rows(self):
        return customer_db.iter_customers(self.window)


class ExtractOrders(_Extract):
    """Order CSV objects filed under the window's minutes → lake `orders/…/orders.csv`; marker `extract:orders`."""

    source, columns = "orders", orders_bucket.COLUMNS

    def rows(self):
        return orders_bucket.iter_orders(self.window)


class ExtractRiskScores(_Extract):
    """Risk scores assessed in the window → lake `risk_scores/…/risk_scores.csv`; marker `extract:risk_scores`."""

    source, columns = "risk_scores", risk_api.COLUMNS

    def rows(self):
        return risk_api.iter_risk_scores(self.window)
