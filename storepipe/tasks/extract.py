"""Extract tasks: land one window of each source in the lake; marker `extract:<source>`."""

from __future__ import annotations

from storepipe.errors import TooManyBadRows, UnreadableFile
from storepipe.lake import landing
from storepipe.lake.objects import Lake
from storepipe.rows import CUSTOMERS, ORDERS, RISK_SCORES, Source
from storepipe.sources import customer_db, orders_bucket, risk_api
from storepipe.tasks.base import WindowTask
from storepipe.warehouse import quarantine, segments
from storepipe.warehouse.markers import EXTRACT, marker_name


class _Extract(WindowTask):
    source: Source

    def marker_name(self) -> str:
        return marker_name(EXTRACT, self.source.name)

    def rows(self):
        raise NotImplementedError

    def run(self):
        with self.claim() as cur:
            if cur is None:
                return
            landed = self.land(self.rows())
            self.output().touch(cur, landed.rows, landed.checksum, landed.key)

    def land(self, rows, segment: str | None = None) -> landing.Landed:
        """Land `rows` as the window's lake copy (or as one segment of it); a failed verdict shows its rejects."""
        lake, name = Lake(), self.source.name
        try:
            return landing.land(
                self.window, name, rows, list(self.source.columns), lake, self.source.max_bad_share, segment
            )
        except (TooManyBadRows, UnreadableFile):
            # the rejects object is in the lake: show its rows in `storepipe quarantine`
            rejects_key = landing.keys(name, self.window, segment)[1]
            quarantine.record_failed_window(self.window, name, lambda: lake.open(rejects_key))
            raise


class ExtractCustomers(_Extract):
    """Customers changed in the window → lake `customers/…/customers.csv`; marker `extract:customers`."""

    source = CUSTOMERS

    def rows(self):
        return customer_db.iter_customers(self.window)


class ExtractOrders(_Extract):
    """Order CSV objects filed under the window's minutes → lake segments `orders/…/segment-<id>.csv`, each
    recorded with the objects it holds; marker `extract:orders`.

    Run again (a rebuild, or a window re-opened by late objects), it lands only the objects it has
    not read yet, as a new segment: a segment, once landed, is never rewritten.
    """

    source = ORDERS

    def run(self):
        with self.claim() as cur:
            if cur is None:
                return
            read = segments.recorded_objects(ORDERS.name, self.window.start, self.window.end, cur)
            read = read.get(self.window.start, set())
            new = [found for found in orders_bucket.list_objects(self.window) if (found.key, found.etag) not in read]
            landed_before = segments.of(cur, ORDERS.name, self.window)
            if new or not landed_before:
                name = segments.name_of([(found.key, found.etag) for found in new])
                landed = self.land(orders_bucket.iter_orders(self.window, objects=new), name)
                segment = segments.Segment(name, landed.key, landed.rejects_key, landed.rows, landed.checksum)
                segments.record(cur, ORDERS.name, self.window, segment, new)
                landed_before.append(segment)
            rows = sum(segment.row_count for segment in landed_before)
            checksum = segments.name_of([(s.data_key, s.checksum) for s in landed_before])
            self.output().touch(cur, rows, checksum, landed_before[0].data_key)


class ExtractRiskScores(_Extract):
    """Risk scores assessed in the window → lake `risk_scores/…/risk_scores.csv`; marker `extract:risk_scores`."""

    source = RISK_SCORES

    def rows(self):
        return risk_api.iter_risk_scores(self.window)


EXTRACTS = {cls.source.name: cls for cls in (ExtractCustomers, ExtractOrders, ExtractRiskScores)}
