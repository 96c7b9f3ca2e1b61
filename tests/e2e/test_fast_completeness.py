"""Invariant 8 (fast completeness): a range's completeness is one marker query, and it is right."""

import calendar

import luigi
from luigi.tools.range import RangeByMinutes

from storepipe.tasks import LoadOrders, RunWindow, TransformModel
from storepipe.warehouse import markers
from tests.helpers import run_windows


def test_bulk_complete_finds_exactly_the_done_windows(pipeline, monkeypatch):
    done = [pipeline.window(0), pipeline.window(2)]
    for window in done:
        pipeline.generate(window, customers=5, orders=20)
    assert run_windows(*done).name == "SUCCESS"

    calls = []
    real = markers.done_windows
    monkeypatch.setattr(markers, "done_windows", lambda *a: calls.append(a) or real(*a))
    starts = [pipeline.window(i).start for i in range(4)]
    assert sorted(RunWindow.bulk_complete(iter(starts))) == [done[0].start, done[1].start]
    assert len(calls) == 1, "one query for the whole range"
    assert sorted(LoadOrders.bulk_complete(starts)) == [done[0].start, done[1].start]
    partial = TransformModel.bulk_complete.__func__
    import functools

    assert len(partial(functools.partial(TransformModel, model="fct_orders"), starts)) == 2


def test_range_by_minutes_schedules_only_the_missing_windows(pipeline):
    pipeline.generate(pipeline.window(0), customers=5, orders=20)
    assert run_windows(pipeline.window(0)).name == "SUCCESS"
    luigi.task_register.Register.clear_instance_cache()
    stop = pipeline.window(3).start
    task = RangeByMinutes(
        of=RunWindow,
        start=pipeline.window(0).start,
        stop=stop,
        minutes_interval=5,
        # past stop by the grace and a minute: luigi.cfg's minutes_forward = -7 keeps a window that is
        # not closed yet (its end plus the 2-minute grace still ahead) out
        now=calendar.timegm(stop.timetuple()) + 3 * 60,
    )
    missing = sorted(t.window.start for t in task.requires())
    assert missing == [pipeline.window(1).start, pipeline.window(2).start]
