"""Invariant 8 at a day's scale: a backfill over 288 complete windows is one query per task family,
on one connection, for the whole tree below RunWindow (not only RunWindow, spotify/luigi#2329)."""

import datetime as dt
from contextlib import contextmanager

import luigi
import psycopg2
import psycopg2.extensions
from luigi.tools.range import RangeByMinutes

from storepipe.cli import main
from storepipe.ops import backfill
from storepipe.tasks import RunWindow, completeness
from storepipe.tasks.run import RangeWindows
from storepipe.warehouse import db
from storepipe.window import Window
from tests.helpers import query


class Counter:
    def __init__(self):
        self.connections = 0
        self.statements: list[str] = []


@contextmanager
def counting(monkeypatch):
    """Count every connection opened and every statement executed through psycopg2 in this process."""
    counter = Counter()

    class CountingCursor(psycopg2.extensions.cursor):
        def execute(self, statement, params=None):
            counter.statements.append(str(statement))
            return super().execute(statement, params)

    class CountingConnection(psycopg2.extensions.connection):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            counter.connections += 1

        def cursor(self, *args, **kwargs):
            kwargs.setdefault("cursor_factory", CountingCursor)
            return super().cursor(*args, **kwargs)

    real = psycopg2.connect
    db.close_shared()  # so the lookup connection is opened, and counted, afresh
    monkeypatch.setattr(psycopg2, "connect", lambda *a, **k: real(*a, connection_factory=CountingConnection, **k))
    try:
        yield counter
    finally:
        monkeypatch.setattr(psycopg2, "connect", real)
        db.close_shared()


def a_complete_day(pipeline) -> list[Window]:
    first = pipeline.window(0)
    windows = first.range_to(first.start + dt.timedelta(days=1))
    names = sorted({name for family in completeness.families(RunWindow) for name in family.marker_names()})
    query(
        pipeline.warehouse_url,
        "insert into storepipe.markers (task_name, window_start, task_id, row_count)"
        " select name, start, 'seeded', 0 from unnest(%s::text[]) as name cross join unnest(%s::timestamp[]) as start",
        (names, [w.start for w in windows]),
    )
    return windows


def test_a_no_op_day_is_one_query_per_task_family(pipeline, monkeypatch, capsys):
    windows = a_complete_day(pipeline)
    assert len(windows) == 288
    families = completeness.families(RunWindow)
    assert {"RunWindow", "ExtractOrders", "LoadOrders", "TransformModel"} <= {f.name for f in families}

    with counting(monkeypatch) as counter:
        plan = backfill.plan(windows)
    assert plan.todo == [] and len(plan.complete) == 288
    assert len(counter.statements) == len(families), counter.statements
    assert counter.connections == 1

    with counting(monkeypatch) as counter:
        code = main(["backfill", "--start", windows[0].label, "--end", f"{windows[-1].end:%Y-%m-%dT%H:%M}"])
    assert code == 0
    assert "all 288 windows complete, nothing to do" in capsys.readouterr().out
    # and one for what the look-back's extracts read (late objects), whatever the range's length, and
    # one for the days whose partitions the cron path would roll up or drop (none here)
    assert len(counter.statements) == len(families) + 2 and counter.connections == 1


def test_range_tools_check_a_complete_day_in_one_query_per_family(pipeline, monkeypatch):
    windows = a_complete_day(pipeline)
    stop = windows[-1].end
    luigi.task_register.Register.clear_instance_cache()
    with counting(monkeypatch) as counter:
        result = luigi.build(
            [RangeWindows(start=windows[0].start, stop=stop)],
            local_scheduler=True,
            detailed_summary=True,
            log_level="WARNING",
        )
    assert result.status.name == "SUCCESS"
    assert len(counter.statements) == len(completeness.families(RunWindow)), counter.statements

    # Luigi's own RangeByMinutes checks RunWindow's markers only: one query
    luigi.task_register.Register.clear_instance_cache()
    with counting(monkeypatch) as counter:
        task = RangeByMinutes(of=RunWindow, start=windows[0].start, stop=stop, minutes_interval=5)
        assert task.requires() == []
    assert len(counter.statements) == 1


def test_the_whole_tree_is_checked_a_missing_extract_is_found(pipeline, monkeypatch):
    windows = a_complete_day(pipeline)
    hole = windows[100]
    query(
        pipeline.warehouse_url,
        "delete from storepipe.markers where task_name = 'extract:risk_scores' and window_start = %s",
        (hole.start,),
    )
    with counting(monkeypatch) as counter:
        plan = backfill.plan(windows)
    assert plan.todo == [hole]
    assert len(counter.statements) == len(completeness.families(RunWindow)) + 1, "and one for the window's failures"
    roots = completeness.roots(hole, plan.completeness)
    assert [type(task).__name__ for task in roots] == ["RunWindow", "ExtractRiskScores"]
