"""Replay from the lake: an emptied warehouse rebuilds identically from the lake alone, and the lake
copy of a window is immutable, with its row count and checksum in the extract marker."""

import csv
import datetime as dt
import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import luigi
import pytest

from storepipe.errors import LakeMismatch
from storepipe.tasks import LoadOrders, capture
from tests.helpers import query, run_windows, table_hashes


def test_rebuild_from_the_lake_without_touching_any_source(pipeline, monkeypatch, request):
    windows = [pipeline.window(i) for i in range(3)]
    for window in windows:
        pipeline.generate(window, customers=10, orders=50)
    assert run_windows(*windows).name == "SUCCESS"
    # a late change, captured (and its window re-run) after the slot's snapshot: the slot moves past it
    ((customer_id,),) = query(
        pipeline.warehouse_url,
        "select min(customer_id) from store.customers where window_start = %s",
        (windows[0].start,),
    )
    late = windows[1].start + dt.timedelta(minutes=4)
    query(
        pipeline.env["SOURCE_DB_ADMIN_URL"],
        "update customers set last_name = 'Late', datetime_updated = %s where customer_id = %s",
        (late, customer_id),
    )
    assert capture.run().reopened == 1
    assert run_windows(*windows).name == "SUCCESS"
    expected = table_hashes(pipeline.warehouse_url)
    slot = capture.slot_name()

    # the rebuilt warehouse goes on from the same slot, which has moved past every captured change:
    # the customers' history comes from the lake's capture manifests (only new changes from the slot)
    pipeline.new_warehouse(keep_slot=True)
    settings = luigi.configuration.get_config()
    settings.set("customer_db", "slot", slot)
    request.addfinalizer(lambda: settings.remove_option("customer_db", "slot"))
    # every source unreachable but the change log: a rebuild that read one would fail
    monkeypatch.setenv("SOURCE_DB_URL", "postgresql://nobody@127.0.0.1:9/none?connect_timeout=1")
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("RISK_API_URL", "http://127.0.0.1:9")
    assert run_windows(*windows).name == "SUCCESS"
    assert table_hashes(pipeline.warehouse_url) == expected
    runs = query(pipeline.warehouse_url, "select kind from storepipe.capture_runs where kind != 'read' order by kind")
    assert runs == [("changes",), ("snapshot",)], "both runs were taken from the lake's manifests"


def test_extract_marker_records_the_lake_copy(pipeline):
    window = pipeline.window(0)
    counts = pipeline.generate(window, customers=5, orders=30)
    assert run_windows(window).name == "SUCCESS"
    ((row_count, checksum, key),) = query(
        pipeline.warehouse_url,
        "select row_count, checksum, object_key from storepipe.markers"
        " where task_name = 'extract:orders' and window_start = %s",
        (window.start,),
    )
    path = Path(urlsplit(pipeline.env["LAKE_URL"]).path) / key
    assert row_count == counts["orders"]
    assert checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    with path.open(newline="") as f:
        assert sum(1 for _ in csv.reader(f)) == row_count + 1  # header

    # a forced re-extract keeps the landed copy byte for byte, even if the source changed since
    before = path.read_bytes()
    pipeline.generate(window, customers=5, orders=31)
    query(pipeline.warehouse_url, "delete from storepipe.markers where window_start = %s", (window.start,))
    assert run_windows(window).name == "SUCCESS"
    assert path.read_bytes() == before


def test_a_load_refuses_a_lake_object_changed_since_its_extract(pipeline):
    window = pipeline.window(0)
    pipeline.generate(window, customers=5, orders=30)
    assert run_windows(window).name == "SUCCESS"
    before = table_hashes(pipeline.warehouse_url)
    ((key,),) = query(
        pipeline.warehouse_url,
        "select object_key from storepipe.markers where task_name = 'extract:orders' and window_start = %s",
        (window.start,),
    )
    path = Path(urlsplit(pipeline.env["LAKE_URL"]).path) / key
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))  # one order dropped by hand: a valid CSV, not the landed one

    # the load runs again (its marker forgotten); the extract's marker, and so its checksum, stays
    query(
        pipeline.warehouse_url,
        "delete from storepipe.markers where window_start = %s and task_name not like 'extract:%%'",
        (window.start,),
    )
    luigi.task_register.Register.clear_instance_cache()
    with pytest.raises(LakeMismatch, match=rf"lake object \S+{key} is not the one its extract recorded"):
        LoadOrders(window=window).run()
    assert run_windows(window).name == "FAILED"
    assert table_hashes(pipeline.warehouse_url) == before, "store.orders kept the window as it was"
