"""Load tasks: replace the window's rows in store.* (and its quarantine rows) from the lake; marker `load:<source>`."""

from __future__ import annotations

from storepipe import config
from storepipe.errors import StorepipeError
from storepipe.lake import landing
from storepipe.lake.objects import Lake
from storepipe.rows import CUSTOMERS, ORDERS, RISK_SCORES, Source
from storepipe.tasks import capture
from storepipe.tasks.base import WindowTask
from storepipe.tasks.extract import EXTRACTS
from storepipe.warehouse import db, ledger, quarantine, segments, windows
from storepipe.warehouse.markers import LOAD, marker_name


class _Load(WindowTask):
    source: Source

    def marker_name(self) -> str:
        return marker_name(LOAD, self.source.name)

    def requires(self):
        return self.below(EXTRACTS[self.source.name])

    def run(self):
        lake = Lake()
        with self.claim() as cur:
            if cur is None:
                return
            extracted = self.input().read(cur)
            if extracted is None:  # forgotten since Luigi scheduled this task
                raise StorepipeError(f"{self.input()} is gone", f"window {self.window.label}", "run the window again")
            parts = segments.of(cur, self.source.name, self.window) or [self._one_object(extracted)]
            db.bind_window(cur, self.window)
            rows = 0
            first = parts[0].segment or None
            with windows.replace_window(cur, "store", self.source.table, self.window, first) as replacing:
                if replacing.landed:  # the extract copied the first segment in as it landed it
                    rows, parts_to_copy = parts[0].row_count, parts[1:]
                else:
                    parts_to_copy = parts
                for part in parts_to_copy:
                    with lake.open_verified(part.data_key, part.checksum) as stream:
                        rows += db.copy_csv(
                            cur, replacing.target, list(self.source.columns), stream, freeze=replacing.fresh
                        )
            quarantine.replace(cur, self.window, self.source.name, [lake.open(part.rejects_key) for part in parts])
            self.output().touch(cur, rows, extracted["checksum"], parts[0].data_key)

    def _one_object(self, extracted: dict) -> segments.Segment:
        """A window landed whole, in one object (every source but orders, and orders extracted before segments)."""
        data_key, rejects_key = landing.keys(self.source.name, self.window)
        return segments.Segment("", data_key, rejects_key, extracted["row_count"], extracted["checksum"])


class LoadCustomers(_Load):
    """The window's lake segments → store.customers (the change log); marker `load:customers`."""

    source = CUSTOMERS

    def locks(self, cur) -> None:
        # before its input is held: the capture, holding this lock, may be deleting that very marker
        if config.customer_db().capture != "query":
            capture.lock(cur, capture.slot_name())

    def run(self):
        if config.customer_db().capture == "query":
            super().run()
            return
        lake, slot = Lake(), capture.slot_name()
        with self.claim() as cur:
            if cur is None:
                return
            landed = ledger.window_segments(cur, slot, self.window)
            db.bind_window(cur, self.window)
            rows = 0
            with windows.replace_window(cur, "store", self.source.table, self.window) as replacing:
                for key, _, _, _ in landed:
                    with lake.open(key) as stream:
                        rows += db.copy_csv(
                            cur, replacing.target, list(capture.COLUMNS), stream, freeze=replacing.fresh
                        )
            quarantine.replace(cur, self.window, self.source.name, [lake.open(s[1]) for s in landed])
            self.output().touch(cur, rows, ledger.segment_set_checksum(landed), f"{len(landed)} segments")


class LoadOrders(_Load):
    """Lake orders → store.orders; marker `load:orders`."""

    source = ORDERS


class LoadRiskScores(_Load):
    """Lake risk scores → store.customer_risk_score; marker `load:risk_scores`."""

    source = RISK_SCORES


LOADS = {cls.source.name: cls for cls in (LoadCustomers, LoadOrders, LoadRiskScores)}
