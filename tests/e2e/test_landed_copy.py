"""The extract of a window's first orders segment copies the lake object's bytes into the warehouse as
it writes them (windows.landed_copy): the load swaps that table in instead of reading the lake again.
The copy commits with the extract's marker or not at all; a copy that fails, or one of a lake object
kept from a crashed run (which streams nothing), is dropped and the load reads the lake; a later
segment is added to it from the lake."""

from __future__ import annotations

import logging

import luigi
import pytest

from storepipe.cli import main
from storepipe.lake import landing
from storepipe.tasks import ExtractOrders
from storepipe.warehouse import db, windows
from tests.e2e.test_late_objects import _plant
from tests.helpers import query, run_windows, table_hashes

LANDED = "select relname, oid::bigint from pg_class where relname like %s and relkind = 'r' order by relname"


def _landed(pipeline, window) -> list[tuple[str, int]]:
    return query(pipeline.warehouse_url, LANDED, (f"orders\\_{window.start:%Y%m%d_%H%M}\\_landed\\_%",))


def _partition_oid(pipeline, window) -> int:
    [(oid,)] = query(
        pipeline.warehouse_url, "select %s::regclass::oid::bigint", (f"store.orders_{window.start:%Y%m%d_%H%M}",)
    )
    return oid


def _extract_only(window) -> bool:
    luigi.task_register.Register.clear_instance_cache()
    return luigi.build([ExtractOrders(window=window)], local_scheduler=True, log_level="WARNING")


def _marker_rows(pipeline, window, task: str) -> int:
    [(rows,)] = query(
        pipeline.warehouse_url,
        "select row_count from storepipe.markers where task_name = %s and window_start = %s",
        (task, window.start),
    )
    return rows


def test_the_load_swaps_in_the_table_the_extract_filled_as_it_landed(pipeline):
    window = pipeline.window(0)
    pipeline.generate(window, customers=5, orders=300)
    assert _extract_only(window)
    [(name, oid)] = _landed(pipeline, window)
    [(rows,)] = query(pipeline.warehouse_url, f"select count(*) from store.{name}")
    assert rows == _marker_rows(pipeline, window, "extract:orders") > 250

    assert run_windows(window).name == "SUCCESS"
    assert _partition_oid(pipeline, window) == oid, "the landed table became the window's partition"
    assert _landed(pipeline, window) == []
    assert _marker_rows(pipeline, window, "load:orders") == rows
    landed_way = table_hashes(pipeline.warehouse_url)

    # the same window loaded from the lake alone (a warehouse rebuilt from it): the same rows everywhere
    pipeline.new_warehouse()
    assert run_windows(window).name == "SUCCESS"
    assert table_hashes(pipeline.warehouse_url) == landed_way


def test_a_copy_the_warehouse_refuses_is_dropped_and_the_load_reads_the_lake(pipeline, monkeypatch, caplog):
    window = pipeline.window(0)
    pipeline.generate(window, customers=5, orders=300)
    copy_csv = db.copy_csv

    def garbled_when_landing(cur, table, columns, stream, *, freeze=False):
        if "_landed_" not in table.as_string(cur):
            return copy_csv(cur, table, columns, stream, freeze=freeze)

        class Garbled:  # the first order_id loses a hyphen: PostgreSQL refuses it mid-COPY
            first = True

            def read(self, size=-1):
                data = stream.read(size)
                if self.first and data:
                    self.first, data = False, data.replace(b"-", b"#", 1)
                return data

        return copy_csv(cur, table, columns, Garbled(), freeze=freeze)

    monkeypatch.setattr(db, "copy_csv", garbled_when_landing)
    with caplog.at_level(logging.WARNING, logger="storepipe.warehouse.windows"):
        assert _extract_only(window), "the extract commits what it landed all the same"
    assert "the warehouse copy made while landing failed (invalid input syntax for type uuid" in caplog.text
    assert _landed(pipeline, window) == []

    assert run_windows(window).name == "SUCCESS"
    extracted = _marker_rows(pipeline, window, "extract:orders")
    assert _marker_rows(pipeline, window, "load:orders") == extracted > 250
    [(facts,)] = query(
        pipeline.warehouse_url, "select count(*) from analytics.fct_orders where window_start = %s", (window.start,)
    )
    assert facts == extracted


def test_a_crash_between_the_lake_and_the_warehouse_keeps_no_copy_of_nothing(pipeline, monkeypatch, caplog):
    """The extract dies after its segment's objects are in the lake, before its manifest and its commit:
    the next run keeps those objects and streams none of their bytes, so its copy is empty and must
    not stand for the segment."""
    window = pipeline.window(0)
    pipeline.generate(window, customers=5, orders=300)
    write_manifest = landing.write_manifest

    def crash(*args, **kwargs):
        raise RuntimeError("killed after the lake write")

    monkeypatch.setattr(landing, "write_manifest", crash)
    assert not _extract_only(window)
    assert _landed(pipeline, window) == [], "rolled back with the extract"

    monkeypatch.setattr(landing, "write_manifest", write_manifest)
    with caplog.at_level(logging.INFO, logger="storepipe.lake.landing"):
        assert _extract_only(window)
    assert "already in the lake at" in caplog.text
    assert _landed(pipeline, window) == []

    assert run_windows(window).name == "SUCCESS"
    extracted = _marker_rows(pipeline, window, "extract:orders")
    [(loaded,)] = query(
        pipeline.warehouse_url, "select count(*) from store.orders where window_start = %s", (window.start,)
    )
    assert loaded == _marker_rows(pipeline, window, "load:orders") == extracted > 250


def test_a_late_segment_is_copied_from_the_lake_into_the_landed_table(pipeline):
    window = pipeline.window(0)
    pipeline.generate(window, customers=5, orders=300)
    assert _extract_only(window)
    [(_, oid)] = _landed(pipeline, window)
    first = _marker_rows(pipeline, window, "extract:orders")

    # a file filed under the window after its extract, before its load: a second segment
    late = _plant(pipeline, window, "late-upload.csv", 20)
    luigi.task_register.Register.clear_instance_cache()
    assert main(["backfill", "--start", window.label, "--end", f"{window.end:%Y-%m-%dT%H:%M}", "--force"]) == 0

    [(segment_count,)] = query(
        pipeline.warehouse_url,
        "select count(*) from storepipe.lake_segments where source = 'orders' and window_start = %s",
        (window.start,),
    )
    assert segment_count == 2
    assert _partition_oid(pipeline, window) == oid, "the first segment's landed table, with the late one added"
    assert _landed(pipeline, window) == []
    [(loaded,)] = query(
        pipeline.warehouse_url, "select count(*) from store.orders where window_start = %s", (window.start,)
    )
    assert loaded == _marker_rows(pipeline, window, "load:orders") == first + len(late)
    [(facts,)] = query(
        pipeline.warehouse_url, "select count(*) from analytics.fct_orders where order_id::text = any(%s)", (late,)
    )
    assert facts == len(late)


@pytest.mark.parametrize("kind", ["partitioned", "not partitioned"])
def test_only_a_table_partitioned_by_window_gets_a_landed_copy(pipeline, kind):
    """A table whose loads delete and insert has nothing to swap in: no table is made for it."""
    window = pipeline.window(0)
    table = "orders" if kind == "partitioned" else "customer_risk_score"
    with db.transaction(pipeline.warehouse_url) as cur:
        with windows.landed_copy(cur, "store", table, window, "0123456789abcdef", ["order_id"]) as copy:
            copy.rows = 0
        cur.execute("select count(*) from pg_class where relname like %s", (f"{table}\\_%\\_landed\\_%",))
        [(made,)] = cur.fetchall()
    assert made == (1 if kind == "partitioned" else 0)
