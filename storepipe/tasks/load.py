"""Load tasks: replace the window's rows in store.* (and its quarantine rows) from the lake; marker `load:<source>`."""

from __future__ import annotations

from storepipe import config
from storepipe.lake import landing
from storepipe.lake.objects import Lake
from storepipe.rows import CUSTOMERS, ORDERS, RISK_SCORES, Source
from storepipe.tasks import capture
from storepipe.tasks.base import WindowTask
from storepipe.tasks.extract import EXTRACTS
from storepipe.warehouse import db, ledger, quarantine, windows
from storepipe.warehouse.markers import LOAD, marker_name


class _Load(WindowTask):
    source: Source

    def marker_name(self) -> str:
        return marker_name(LOAD, self.source.name)

    def requires(self):
        return EXTRACTS[self.source.name](window=self.window)

    def run(self):
        lake = Lake()
        data_key, rejects_key = landing.keys(self.source.name, self.window)
        with self.claim() as cur:
            if cur is None:
                return
            db.bind_window(cur, self.window)
            replacing = windows.replace_window(cur, "store", self.source.table, self.window)
            with replacing as target, lake.open(data_key) as stream:
                rows = db.copy_csv(cur, target, list(self.source.columns), stream)
            with lake.open(rejects_key) as stream:
                quarantine.replace(cur, self.window, self.source.name, stream)
            self.output().touch(cur, rows, self.input().read()["checksum"], data_key)


class LoadCustomers(_Load):
    """The window's lake segments → store.customers (the change log); marker `load:customers`."""

    source = CUSTOMERS

    def run(self):
        if config.customer_db().capture == "query":
            super().run()
            return
        lake, slot = Lake(), capture.slot_name()
        with self.claim() as cur:
            if cur is None:
                return
            capture.lock(cur, slot)
            segments = ledger.window_segments(cur, slot, self.window)
            db.bind_window(cur, self.window)
            rows = 0
            with windows.replace_window(cur, "store", self.source.table, self.window) as target:
                for key, _, _, _ in segments:
                    with lake.open(key) as stream:
                        rows += db.copy_csv(cur, target, list(capture.COLUMNS), stream)
            quarantine.replace_all(cur, self.window, self.source.name, [lake.opener(s[1]) for s in segments])
            self.output().touch(cur, rows, ledger.segment_set_checksum(segments), f"{len(segments)} segments")


class LoadOrders(_Load):
    """Lake orders → store.orders; marker `load:orders`."""

    source = ORDERS


class LoadRiskScores(_Load):
    """Lake risk scores → store.customer_risk_score; marker `load:risk_scores`."""

    source = RISK_SCORES


LOADS = {cls.source.name: cls for cls in (LoadCustomers, LoadOrders, LoadRiskScores)}
