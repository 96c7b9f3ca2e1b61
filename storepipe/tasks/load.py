"""Load tasks: replace the window's rows in store.* (and its quarantine rows) from the lake; marker `load:<source>`."""

from __future__ import annotations

from storepipe import land, quarantine, sql, warehouse
from storepipe.lake import Lake
from storepipe.sources import customer_db, orders_bucket, risk_api
from storepipe.tasks.base import WindowTask
from storepipe.tasks.extract import ExtractCustomers, ExtractOrders, ExtractRiskScores


class _Load(WindowTask):
    source: str
    table: str
    columns: list[str]
    extract: type

    def marker_name(self) -> str:
        return f"load:{self.source}"

    def requires(self):
        return self.extract(window=self.window)

    def run(self):
        lake = Lake()
        data_key, rejects_key = land.keys(self.source, self.window)
        with self.claim() as cur:
            if cur is None:
                return
            params = {**self.window.sql_params(), "source": self.source}
            warehouse.bind_window(cur, self.window)
            with lake.open(data_key) as stream:
                rows = self._replace_window(cur, stream, params)
            cur.execute(sql.load("load/delete_quarantine"), params)
            with lake.open(rejects_key) as stream:
                warehouse.copy_csv(cur, sql.qualified("storepipe", "quarantine"), quarantine.COLUMNS, stream)
            self.output().touch(cur, rows, self.input().read()["checksum"], data_key)

    def _replace_window(self, cur, stream, params) -> int:
        """A table partitioned by window (orders: the volume) gets a new partition; others a delete + COPY."""
        if warehouse.is_partitioned(cur, "store", self.table):
            with warehouse.window_partition(cur, "store", self.table, self.window) as fresh:
                return warehouse.copy_csv(cur, fresh, self.columns, stream)
        target = sql.qualified("store", self.table)
        cur.execute(sql.compose("load/delete_window", table=target), params)
        return warehouse.copy_csv(cur, target, self.columns, stream)


class LoadCustomers(_Load):
    """Lake customers → store.customers (the change log); marker `load:customers`."""

    source, table, columns, extract = "customers", "customers", customer_db.COLUMNS, ExtractCustomers


class LoadOrders(_Load):
    """Lake orders → store.orders; marker `load:orders`."""

    source, table, columns, extract = "orders", "orders", orders_bucket.COLUMNS, ExtractOrders


class LoadRiskScores(_Load):
    """Lake risk scores → store.customer_risk_score; marker `load:risk_scores`."""

    source, table, columns, extract = (
        "risk_scores",
        "customer_risk_score",
        risk_api.COLUMNS,
        ExtractRiskScores,
    )


LOADS = {cls.source: cls for cls in (LoadCustomers, LoadOrders, LoadRiskScores)}
