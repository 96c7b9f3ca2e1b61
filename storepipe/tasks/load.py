"""Load tasks: replace the window's rows in store.* (and its quarantine rows) from the lake; marker `load:<source>`."""

from __future__ import annotations

from storepipe.errors import StorepipeError
from storepipe.lake import landing
from storepipe.lake.objects import Lake
from storepipe.rows import CUSTOMERS, ORDERS, RISK_SCORES, Source
from storepipe.tasks.base import WindowTask
from storepipe.tasks.extract import EXTRACTS
from storepipe.warehouse import db, quarantine, windows
from storepipe.warehouse.markers import LOAD, marker_name


class _Load(WindowTask):
    source: Source

    def marker_name(self) -> str:
        return marker_name(LOAD, self.source.name)

    def requires(self):
        return self.below(EXTRACTS[self.source.name])

    def run(self):
        lake = Lake()
        data_key, rejects_key = landing.keys(self.source.name, self.window)
        with self.claim() as cur:
            if cur is None:
                return
            extracted = self.input().read(cur)
            if extracted is None:  # forgotten since Luigi scheduled this task (a forced re-run)
                raise StorepipeError(f"{self.input()} is gone", f"window {self.window.label}", "run the window again")
            db.bind_window(cur, self.window)
            replacing = windows.replace_window(cur, "store", self.source.table, self.window)
            with replacing as target, lake.open_verified(data_key, extracted["checksum"]) as stream:
                rows = db.copy_csv(cur, target, list(self.source.columns), stream)
            with lake.open(rejects_key) as stream:
                quarantine.replace(cur, self.window, self.source.name, stream)
            self.output().touch(cur, rows, extracted["checksum"], data_key)


class LoadCustomers(_Load):
    """Lake customers → store.customers (the change log); marker `load:customers`."""

    source = CUSTOMERS


class LoadOrders(_Load):
    """Lake orders → store.orders; marker `load:orders`."""

    source = ORDERS


class LoadRiskScores(_Load):
    """Lake risk scores → store.customer_risk_score; marker `load:risk_scores`."""

    source = RISK_SCORES


LOADS = {cls.source.name: cls for cls in (LoadCustomers, LoadOrders, LoadRiskScores)}
