"""Metrics after a real run: storepipe's own (`storepipe metrics`, parsed with prometheus_client's
parser) and luigid's Prometheus collector."""

from __future__ import annotations

import datetime as dt
import time

import luigi
import requests
from prometheus_client.parser import text_string_to_metric_families

from storepipe.tasks import RunWindow, capture
from tests.helpers import query, run_windows, storepipe_cli
from tests.integration.test_bad_orders import HEADER, order_line, plant

EPOCH = dt.datetime(1970, 1, 1)


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) -> value, from Prometheus text."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def luigid_done(url: str, family: str) -> float:
    found = samples(requests.get(url + "metrics", timeout=10).text)
    return found.get(("luigi_task_done_total", (("family", family),)), 0.0)


def test_metrics_match_a_real_run(pipeline, tmp_path):
    published, failed, missing = pipeline.window(0), pipeline.window(1), pipeline.window(2)
    pipeline.generate(published, customers=5, orders=30)
    valid, bad = order_line(published, 7), b"not,an,order\n"
    plant(pipeline, published, "extra.csv", HEADER + valid + bad)  # one row quarantined, one loaded
    plant(pipeline, failed, "orders.json", b"{}")  # the window fails

    # the good window through the stack's luigid, so that its collector counts it
    luigid = pipeline.env["LUIGID_URL"]
    before = luigid_done(luigid, "PublishMarts")
    luigi.task_register.Register.clear_instance_cache()
    result = luigi.build(
        [RunWindow(window=published)], scheduler_url=luigid, detailed_summary=True, log_level="WARNING"
    )
    assert result.status == luigi.LuigiStatusCode.SUCCESS
    assert luigid_done(luigid, "PublishMarts") == before + 1
    assert run_windows(failed) == luigi.LuigiStatusCode.FAILED

    textfile = tmp_path / "node_exporter" / "storepipe.prom"
    textfile.parent.mkdir()
    look_back = ("--start", published.label, "--end", missing.end.strftime("%Y-%m-%dT%H:%M"))
    written = storepipe_cli("metrics", *look_back, "--textfile", str(textfile))
    assert written.returncode == 0, written.stderr
    assert written.stdout == ""
    assert [p.name for p in textfile.parent.iterdir()] == ["storepipe.prom"], "written atomically, nothing left over"
    printed = storepipe_cli("metrics", *look_back)
    assert printed.returncode == 0, printed.stderr
    found = samples(textfile.read_text())
    assert set(found) == set(samples(printed.stdout))

    def value(name: str, **labels) -> float:
        return found[(name, tuple(sorted(labels.items())))]

    assert value("storepipe_newest_published_window_start_seconds") == (published.start - EPOCH).total_seconds()
    lag = time.time() - (published.end - EPOCH).total_seconds()
    assert abs(value("storepipe_newest_published_window_lag_seconds") - lag) < 120
    [(orders,)] = query(pipeline.warehouse_url, "select count(*) from store.orders")
    [(customers,)] = query(pipeline.warehouse_url, "select count(*) from store.customers")
    assert orders == 31
    assert value("storepipe_rows_loaded", source="orders") == orders
    assert value("storepipe_rows_loaded", source="customers") == customers
    # the bad line of the published window, and the failed window's object that is not a CSV
    assert value("storepipe_rows_quarantined", source="orders") == 2
    assert value("storepipe_rows_quarantined", source="risk_scores") == 0
    assert value("storepipe_windows_reopened_total", source="orders") == 0
    assert value("storepipe_lookback_windows") == 3
    assert value("storepipe_windows_failed") == 1
    assert value("storepipe_windows_missing") == 1
    slot = capture.slot_name(pipeline.warehouse_url)
    assert value("storepipe_capture_slot_lag_bytes", slot=slot) >= 0
    assert value("storepipe_windows_stale") == 0, "every window built with today's SQL"
