"""Extract tasks: land one window of each source in the lake; marker `extract:<source>`."""

from __future__ import annotations

import contextlib
import logging

from storepipe import config
from storepipe.errors import StorepipeError
from storepipe.lake import landing
from storepipe.lake.objects import Lake
from storepipe.rows import CUSTOMERS, ORDERS, RISK_SCORES, Source
from storepipe.sources import customer_db, orders_bucket, risk_api
from storepipe.tasks import capture
from storepipe.tasks.base import WindowTask
from storepipe.warehouse import ledger, quarantine, segments, windows
from storepipe.warehouse.markers import EXTRACT, marker_name
from storepipe.window import utcnow

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
        with self.claim() as cur:
            if cur is None:
                return
            landed = self.land(self.rows())
            self.output().touch(cur, landed.rows, landed.checksum, landed.key)

    def land(self, rows, segment: str | None = None, tee=None) -> landing.Landed:
        """Land `rows` as the window's lake copy (or as one segment of it); a failed verdict shows its rejects.
        `tee` gets the data object's bytes as they are written (`landing.land`)."""
        name = self.source.name

        def show_rejects(rejects) -> None:
            # a failed window publishes nothing in the lake: show why in `storepipe quarantine`
            quarantine.record_failed_window(self.window, name, lambda: contextlib.nullcontext(rejects))

        return landing.land(
            self.window,
            name,
            rows,
            list(self.source.columns),
            Lake(),
            self.source.max_bad_share,
            segment,
            show_rejects,
            tee,
        )


class ExtractCustomers(_Extract):
    """The window's customer changes from the log → lake segments `customers/…/segment=…csv` (the capture
    lands them); marker `extract:customers` with their count and checksum. With `capture = query`, the
    customers changed in the window → lake `customers/…/customers.csv`."""

    source = CUSTOMERS

    def rows(self):
        return customer_db.iter_customers(self.window)

    def locks(self, cur) -> None:
        if config.customer_db().capture != "query":
            capture.lock(cur, capture.slot_name())  # no segment lands between the ledger's read and the marker

    def run(self):
        if config.customer_db().capture == "query":
            log.warning(QUERY_BLIND_SPOTS)
            super().run()
            return
        capture.run_for(self.window)
        slot = capture.slot_name()
        with self.claim() as cur:
            if cur is None:
                return
            read_until = ledger.read_until(cur, slot)
            if not capture.read_past(read_until, self.window):
                raise StorepipeError(
                    f"the customer change log is landed only up to {read_until or 'nothing'}",
                    f"window {self.window.label}",
                    "re-run once the capture has read past the window's end plus [window] grace",
                )
            landed = ledger.window_segments(cur, slot, self.window)
            rows = sum(segment[2] for segment in landed)
            self.output().touch(cur, rows, ledger.segment_set_checksum(landed), f"{len(landed)} segments")


class ExtractOrders(_Extract):
    """Order CSV objects filed under the window's minutes → lake segments `orders/…/segment-<id>.csv`, each
    recorded with the objects it holds; marker `extract:orders`.

    Run again (a rebuild, or a window re-opened by late objects), it lands only the objects it has
    not read yet, as a new segment: a segment, once landed, is never rewritten.
    """

    source = ORDERS

    def run(self):
        lake = Lake()
        with self.claim() as cur:
            if cur is None:
                return
            landed_before = segments.of(cur, ORDERS.name, self.window)
            if not landed_before:
                # a warehouse rebuilt from the lake: take the segments the lake holds, reading no source
                landed_before = [
                    self._adopt(cur, manifest) for manifest in landing.manifests(lake, ORDERS.name, self.window)
                ]
            if not landed_before or self.rebuilt_after is not None:
                landed_before += self._land_new(cur, lake, first=not landed_before)
            rows = sum(segment.row_count for segment in landed_before)
            # one segment: its own checksum, as every source's one object has; several: one over them all
            many = segments.name_of([(s.data_key, s.checksum) for s in landed_before])
            checksum = landed_before[0].checksum if len(landed_before) == 1 else many
            self.output().touch(cur, rows, checksum, landed_before[0].data_key)

    def _land_new(self, cur, lake: Lake, *, first: bool) -> list[segments.Segment]:
        """Land the window's objects not read yet as one segment (all of them, the first time)."""
        read = segments.recorded_objects(ORDERS.name, self.window.start, self.window.end, cur)
        read = read.get(self.window.start, set())
        listed = orders_bucket.list_objects(self.window)
        new = [found for found in listed if (found.key, found.etag) not in read]
        if not new and not first:
            return []
        name = segments.name_of([(found.key, found.etag) for found in new])
        rows = orders_bucket.iter_orders(self.window, objects=new)
        if first:
            # the window's first segment goes into the warehouse as it lands in the lake: its load swaps
            # that table in instead of reading the lake (windows.landed_copy)
            with windows.landed_copy(cur, "store", ORDERS.table, self.window, name, list(ORDERS.columns)) as copy:
                landed = self.land(rows, name, copy.write)
                copy.rows = landed.rows
        else:
            landed = self.land(rows, name)
        segment = segments.Segment(name, landed.key, landed.rejects_key, landed.rows, landed.checksum)
        manifest = {**segment._asdict(), "objects": [list(found) for found in new], "landed_at": utcnow().isoformat()}
        manifest_key = landing.segment_manifest_key(ORDERS.name, self.window, name)
        if not lake.exists(manifest_key):  # else a run that crashed before its commit wrote it: the same objects
            landing.write_manifest(manifest_key, manifest, lake)
        segments.record(cur, ORDERS.name, self.window, segment, new)
        return [segment]

    def _adopt(self, cur, manifest: dict) -> segments.Segment:
        segment = segments.Segment(*(manifest[field] for field in segments.Segment._fields))
        segments.record(cur, ORDERS.name, self.window, segment, [tuple(found) for found in manifest["objects"]])
        return segment


class ExtractRiskScores(_Extract):
    """Risk scores assessed in the window → lake `risk_scores/…/risk_scores.csv`; marker `extract:risk_scores`."""

    source = RISK_SCORES

    def rows(self):
        return risk_api.iter_risk_scores(self.window)


EXTRACTS = {cls.source.name: cls for cls in (ExtractCustomers, ExtractOrders, ExtractRiskScores)}
