"""Late order files (README "When data is bad"): an object filed under a window after its extract is
found by the next backfill and brought into that window's marts exactly once, as a new lake segment;
one past the look-back is reported, not dropped silently."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import luigi

from storepipe.cli import main
from storepipe.ops import status
from storepipe.window import closed_until
from tests.helpers import query

HEADER = "order_id,customer_id,item_id,item_name,delivered_on\n"


def _plant(pipeline, window, name: str, count: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    when = window.start + dt.timedelta(minutes=2)
    body = HEADER + "".join(f"{i},42,{uuid.uuid4()},late item,{when:%Y-%m-%d %H:%M:%S}\n" for i in ids)
    key = f"orders/{when:%Y/%m/%d/%H/%M}/{name}"
    pipeline.s3().put_object(Bucket=pipeline.env["ORDERS_BUCKET"], Key=key, Body=body.encode())
    return ids


def _facts(pipeline, ids: list[str]) -> list[tuple]:
    return query(
        pipeline.warehouse_url,
        "select window_start, count(*) from analytics.fct_orders where order_id::text = any(%s) group by 1",
        (ids,),
    )


def _backfill(windows) -> int:
    luigi.task_register.Register.clear_instance_cache()
    return main(
        ["backfill", "--start", windows[0].label, "--end", f"{windows[-1].end:%Y-%m-%dT%H:%M}", "--local-scheduler"]
    )


def test_a_late_file_reaches_its_own_window_once_and_one_past_the_lookback_is_reported(pipeline, request, caplog):
    old, window = pipeline.window(0), pipeline.window(1)
    for w in (old, window):
        pipeline.generate(w, customers=5, orders=40)
    assert _backfill([old, window]) == 0
    lake = Path(urlsplit(pipeline.env["LAKE_URL"]).path)
    first_segments = {p: p.read_bytes() for p in lake.glob("orders/**/segment-*.csv")}
    assert len(first_segments) == 4, "data and rejects of each window's first segment"

    # uploaded after both windows ran: one under each; the look-back reaches back to `window` only
    late_ids = _plant(pipeline, window, "late-upload.csv", 3)
    too_late_ids = _plant(pipeline, old, "much-later.csv", 2)
    lookback = closed_until() - window.start
    parser = luigi.configuration.get_config()
    parser.set("orders_bucket", "late_lookback", f"{int(lookback.total_seconds())} seconds")
    request.addfinalizer(lambda: parser.remove_option("orders_bucket", "late_lookback"))

    with caplog.at_level(logging.WARNING, logger="storepipe.ops.late"):
        assert _backfill([old, window]) == 0
    assert _facts(pipeline, late_ids) == [(window.start, 3)], "in its own window, once"
    assert _facts(pipeline, too_late_ids) == [], "past the look-back: not re-opened"
    assert "appeared under window" in caplog.text and old.label in caplog.text and "--force" in caplog.text
    # the first segments are untouched; the late rows came as one more segment
    assert {p: p.read_bytes() for p in first_segments} == first_segments
    assert len(list(lake.glob("orders/**/segment-*.csv"))) == 6
    states = {s.window.start: s for s in status.status([old, window]).entries}
    assert states[window.start].state == "done" and "re-opened" in states[window.start].late
    assert "past the look-back" in states[old.start].late

    # the next cron run finds nothing new: the same facts, nothing re-opened again
    before = query(pipeline.warehouse_url, "select count(*), max(done_at) from storepipe.markers")
    assert _backfill([old, window]) == 0
    assert query(pipeline.warehouse_url, "select count(*), max(done_at) from storepipe.markers") == before
    assert _facts(pipeline, late_ids) == [(window.start, 3)]

    # a forced rebuild of the old window brings its late file in, as the warning says
    luigi.task_register.Register.clear_instance_cache()
    assert (
        main(["backfill", "--start", old.label, "--end", f"{old.end:%Y-%m-%dT%H:%M}", "--force", "--local-scheduler"])
        == 0
    )
    assert _facts(pipeline, too_late_ids) == [(old.start, 2)]
