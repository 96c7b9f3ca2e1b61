"""Invariant 12 (every change captured): each committed insert, update and delete of a customer reaches
dim_customers' history once, with its own validity, whenever its window runs; a change committed after
its window ran reopens it; and windows run in any order give the same marts.

Windows come from the log by the README's rule: an insert or update by its row's datetime_updated, a
delete by its commit time. Each warehouse captures through its own slot, created (with its snapshot)
before the changes, as `storepipe cdc init` would at set-up.
"""

import datetime as dt
import secrets
import threading
import time
import uuid
from contextlib import closing

import hypothesis
import hypothesis.strategies as st
import luigi
import psycopg2
import pytest
from luigi.task import flatten

from storepipe import window as window_module
from storepipe.errors import InputReopened
from storepipe.ops import backfill
from storepipe.tasks import capture
from storepipe.tasks.transform import TransformModel
from storepipe.warehouse import db
from storepipe.window import Window, utcnow, window_minutes, window_start_of
from tests.conftest import drop_slot
from tests.helpers import query, run_windows, table_hashes

MARTS = ("analytics.dim_customers", "analytics.fct_orders")
ORDERS_HEADER = "order_id,customer_id,item_id,item_name,delivered_on\n"
FIRST_ID = 2_100_000_001  # above the data generator's ids and test_bad_customers' (both stop below it)


def ids_for(window: Window, count: int) -> list[int]:
    """Customer ids no other test uses: tests share the session's source DB, each in its own windows."""
    base = FIRST_ID + int((window.start - dt.datetime(2024, 1, 1)).total_seconds() // 60) % 40_000_000
    return [base + i for i in range(count)]


def source(pipeline, statement: str, params: tuple) -> None:
    """One committed change, written as the application would (the pipeline only reads the source)."""
    query(pipeline.env["SOURCE_DB_ADMIN_URL"], statement, params)


def insert(pipeline, customer_id: int, last_name: str, at: dt.datetime) -> None:
    source(pipeline, "insert into customers values (%s, 'Ana', %s, 'SP', %s, %s)", (customer_id, last_name, at, at))


def update(pipeline, customer_id: int, last_name: str, at: dt.datetime) -> None:
    source(
        pipeline,
        "update customers set last_name = %s, datetime_updated = %s where customer_id = %s",
        (last_name, at, customer_id),
    )


def delete(pipeline, customer_id: int) -> None:
    source(pipeline, "delete from customers where customer_id = %s", (customer_id,))


def put_order(pipeline, customer_id: int, delivered: dt.datetime) -> str:
    order_id = str(uuid.uuid4())
    key = f"orders/{delivered:%Y/%m/%d/%H/%M}/captured-{order_id}.csv"
    line = f"{order_id},{customer_id},{uuid.uuid4()},chair,{delivered:%Y-%m-%d %H:%M:%S}\n"
    pipeline.s3().put_object(Bucket=pipeline.env["ORDERS_BUCKET"], Key=key, Body=(ORDERS_HEADER + line).encode())
    return order_id


def history(pipeline, customer_id: int) -> list[tuple]:
    return query(
        pipeline.warehouse_url,
        "select last_name, valid_from at time zone 'UTC', valid_to at time zone 'UTC', is_current"
        " from analytics.dim_customers where customer_id = %s order by valid_from",
        (customer_id,),
    )


def marts(url: str) -> dict:
    return {table: value for table, value in table_hashes(url).items() if table in MARTS}


def use_warehouse(pipeline, url: str) -> None:
    pipeline.env["WAREHOUSE_URL"] = url
    pipeline.monkeypatch.setenv("WAREHOUSE_URL", url)
    db.close_shared()
    luigi.task_register.Register.clear_instance_cache()


def test_every_version_of_a_window_reaches_the_history_when_it_runs_late(pipeline, monkeypatch):
    window = pipeline.window(0)
    first, second = ids_for(window, 2)
    capture.init()  # the slot and its snapshot exist before the changes (`storepipe cdc init` at set-up)
    at = window.start
    insert(pipeline, first, "Silva", at + dt.timedelta(minutes=1))
    update(pipeline, first, "Souza", at + dt.timedelta(minutes=2))
    update(pipeline, first, "Lima", at + dt.timedelta(minutes=3))
    insert(pipeline, second, "Costa", at + dt.timedelta(seconds=90))
    update(pipeline, second, "Rocha", at + dt.timedelta(seconds=150))
    delete(pipeline, second)
    deleted_at = utcnow()
    order = put_order(pipeline, first, at + dt.timedelta(seconds=150))  # between the two updates

    assert run_windows(window) == luigi.LuigiStatusCode.SUCCESS
    t = lambda seconds: at + dt.timedelta(seconds=seconds)  # noqa: E731
    end_of_time = dt.datetime(9999, 12, 31)
    assert history(pipeline, first) == [
        ("Silva", t(60), t(120), False),
        ("Souza", t(120), t(180), False),
        ("Lima", t(180), end_of_time, True),
    ]
    ((key,),) = query(
        pipeline.warehouse_url, "select customer_key from analytics.fct_orders where order_id = %s", (order,)
    )
    ((middle,),) = query(
        pipeline.warehouse_url,
        "select customer_key from analytics.dim_customers where customer_id = %s and last_name = 'Souza'",
        (first,),
    )
    assert key == middle, "the order points at the version current at its delivery"
    assert history(pipeline, second) == [("Costa", t(90), t(150), False), ("Rocha", t(150), end_of_time, True)]

    # the delete belongs to the window of its commit (now): let that window count as closed instead of
    # waiting for it; the log has been read past the delete already
    deleted_window = Window(window_start_of(deleted_at), window_minutes())
    no_grace = lambda: -dt.timedelta(minutes=2 * window_minutes())  # noqa: E731
    monkeypatch.setattr(window_module, "grace", no_grace)
    monkeypatch.setattr(capture, "grace", no_grace)
    assert run_windows(deleted_window) == luigi.LuigiStatusCode.SUCCESS
    second_history = history(pipeline, second)
    assert [row[0] for row in second_history] == ["Costa", "Rocha"]
    assert not any(row[3] for row in second_history), "a deleted customer has no current version"
    closed_at = second_history[-1][2]
    assert abs(closed_at - deleted_at) < dt.timedelta(seconds=5), "the delete closes the last version at its commit"


def test_a_change_committed_after_its_window_ran_reopens_it_and_reaches_the_history(pipeline):
    window, later, next_run = pipeline.window(0), pipeline.window(1), pipeline.window(2)
    (customer,) = ids_for(window, 1)
    capture.init()
    insert(pipeline, customer, "Silva", window.start + dt.timedelta(minutes=1))
    pipeline.generate(later, customers=3, orders=10)
    assert run_windows(window, later) == luigi.LuigiStatusCode.SUCCESS
    assert [row[0] for row in history(pipeline, customer)] == ["Silva"]

    # a late commit: stamped inside the window that ran already
    update(pipeline, customer, "Souza", window.start + dt.timedelta(minutes=4))
    # the next cron run's new window captures the log, which lands the change and reopens its window
    assert run_windows(next_run) == luigi.LuigiStatusCode.SUCCESS
    plan = backfill.plan([window, later, next_run])
    assert [w.start for w in plan.todo] == [window.start], "the window is incomplete again, the others not"
    assert backfill.run(plan).ok
    assert history(pipeline, customer) == [
        ("Silva", window.start + dt.timedelta(minutes=1), window.start + dt.timedelta(minutes=4), False),
        ("Souza", window.start + dt.timedelta(minutes=4), dt.datetime(9999, 12, 31), True),
    ]


def test_a_backfill_build_reads_the_log_once_and_a_change_committed_during_it_reopens_its_window_later(
    pipeline, monkeypatch
):
    windows = [pipeline.window(i) for i in range(3)]
    newest = pipeline.window(3)
    (customer,) = ids_for(windows[0], 1)
    capture.init()
    insert(pipeline, customer, "Silva", windows[0].start + dt.timedelta(minutes=1))
    for window in [*windows, newest]:
        pipeline.generate(window, customers=3, orders=10)
    reads, real_run = [], capture.run

    def counted_run(*args, **kwargs):
        captured = real_run(*args, **kwargs)
        reads.append(captured)
        if len(reads) == 1:  # committed while the build runs, after its read of the log
            update(pipeline, customer, "Souza", windows[0].start + dt.timedelta(minutes=4))
        return captured

    monkeypatch.setattr(capture, "run", counted_run)
    assert backfill.run(backfill.plan(windows)).ok
    assert len(reads) == 1, "the build's three windows share one read of the log"
    assert [row[0] for row in history(pipeline, customer)] == ["Silva"]

    # the next cron run's new window reads the log: the change lands and re-opens its window, which
    # the run after rebuilds
    assert backfill.run(backfill.plan([*windows, newest])).ok
    assert len(reads) == 2
    plan = backfill.plan([*windows, newest])
    assert [w.start for w in plan.todo] == [windows[0].start]
    assert backfill.run(plan).ok
    assert history(pipeline, customer) == [
        ("Silva", windows[0].start + dt.timedelta(minutes=1), windows[0].start + dt.timedelta(minutes=4), False),
        ("Souza", windows[0].start + dt.timedelta(minutes=4), dt.datetime(9999, 12, 31), True),
    ]


def test_windows_run_in_reverse_give_the_same_marts_as_in_order(pipeline):
    windows = [pipeline.window(i) for i in range(3)]
    in_order = pipeline.warehouse_url
    capture.init()
    reversed_order = pipeline.new_warehouse(keep_slot=True)
    capture.init()
    customers = ids_for(windows[0], 2)
    for i, window in enumerate(windows):
        pipeline.generate(window, customers=5, orders=20)
        for customer in customers:
            at = window.start + dt.timedelta(minutes=1, seconds=customer % 7)
            (insert if i == 0 else update)(pipeline, customer, f"v{i}", at)
            put_order(pipeline, customer, at + dt.timedelta(seconds=30))
    # an update stamped in the first window, committed after the others' changes
    update(pipeline, customers[0], "late", windows[0].start + dt.timedelta(minutes=4))

    for window in reversed(windows):
        assert run_windows(window) == luigi.LuigiStatusCode.SUCCESS
    expected = marts(reversed_order)
    use_warehouse(pipeline, in_order)
    for window in windows:
        assert run_windows(window) == luigi.LuigiStatusCode.SUCCESS
    assert marts(in_order) == expected
    assert [row[0] for row in history(pipeline, customers[0])] == ["v0", "late", "v1", "v2"]


def test_capture_query_keeps_the_old_extract_and_says_what_it_cannot_see(pipeline, request, caplog):
    window = pipeline.window(0)
    (customer,) = ids_for(window, 1)
    insert(pipeline, customer, "Silva", window.start + dt.timedelta(minutes=1))
    update(pipeline, customer, "Souza", window.start + dt.timedelta(minutes=2))
    settings = luigi.configuration.get_config()
    settings.set("customer_db", "capture", "query")
    request.addfinalizer(lambda: settings.remove_option("customer_db", "capture"))

    assert run_windows(window) == luigi.LuigiStatusCode.SUCCESS
    assert "superseded versions, deletes and late commits are not seen" in caplog.text
    assert [row[0] for row in history(pipeline, customer)] == ["Souza"], "only the row as it is when the window ran"
    assert query(pipeline.warehouse_url, "select count(*) from storepipe.capture_runs") == [(0,)], "no capture"


class Crash(Exception):
    """A kill, injected at one instant of the capture."""


def test_a_capture_that_dies_before_its_manifest_or_its_advance_lands_each_change_once(pipeline, monkeypatch):
    window = pipeline.window(0)
    customers = ids_for(window, 3)
    capture.init()

    def landed() -> list[tuple]:
        return query(
            pipeline.warehouse_url,
            "select segment_key, row_count from storepipe.capture_segments where window_start = %s order by 1",
            (window.start,),
        )

    insert(pipeline, customers[0], "Silva", window.start + dt.timedelta(minutes=1))
    # dies after the segments, before the manifest: nothing recorded, the slot where it was
    real_manifest = capture.landing.write_manifest
    monkeypatch.setattr(capture.landing, "write_manifest", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    position = capture.customer_log.position(pipeline.env["SOURCE_DB_CAPTURE_URL"], capture.slot_name())
    with pytest.raises(Crash):
        capture.run()
    assert landed() == []
    assert capture.customer_log.position(pipeline.env["SOURCE_DB_CAPTURE_URL"], capture.slot_name()) == position
    monkeypatch.setattr(capture.landing, "write_manifest", real_manifest)

    insert(pipeline, customers[1], "Costa", window.start + dt.timedelta(minutes=2))
    # dies after the ledger's commit, before the slot's advance: the rerun only advances
    real_advance = capture.customer_log.Session.advance
    monkeypatch.setattr(capture.customer_log.Session, "advance", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        capture.run()
    monkeypatch.setattr(capture.customer_log.Session, "advance", real_advance)
    recorded = landed()
    assert sum(rows for _, rows in recorded) == 2
    capture.run()
    assert landed() == recorded, "the rerun records nothing twice"

    insert(pipeline, customers[2], "Lima", window.start + dt.timedelta(minutes=3))
    capture.run()
    assert run_windows(window) == luigi.LuigiStatusCode.SUCCESS
    loaded = query(
        pipeline.warehouse_url,
        "select customer_id, count(*) from store.customers where window_start = %s group by 1 order by 1",
        (window.start,),
    )
    assert loaded == [(customer, 1) for customer in customers], "every change once"


_examples = iter(range(1, 1000))


@hypothesis.settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=(hypothesis.Phase.explicit, hypothesis.Phase.reuse, hypothesis.Phase.generate),  # each example ~20 s
)
@hypothesis.given(data=st.data())
def test_source_changes_and_window_runs_interleaved_give_the_marts_of_running_after_them(pipeline, monkeypatch, data):
    """Changes committed between window runs (late commits, windows run before their changes, deletes
    after a run) give the same marts as running every window once all changes are in the log."""
    windows = [pipeline.window(i) for i in range(3)]
    span = int((windows[-1].end - windows[0].start).total_seconds())
    # each example its own customers: tests share the source DB
    customers = [c + 10 * next(_examples) for c in ids_for(windows[0], 3)]
    lives = []
    for customer in customers:
        stamps = data.draw(st.lists(st.integers(0, span - 1), min_size=1, max_size=3, unique=True), label="stamps")
        steps = [("insert" if k == 0 else "update", customer, s) for k, s in enumerate(sorted(stamps))]
        if data.draw(st.booleans(), label="deleted"):
            steps.append(("delete", customer, None))
        lives.append(steps)
    events = []
    while any(lives):  # the customers' changes interleaved, each customer's in its own order
        life = data.draw(st.sampled_from([life for life in lives if life]), label="next change")
        events.append(life.pop(0))
    runs = data.draw(
        st.lists(st.tuples(st.integers(0, len(events)), st.sampled_from(range(len(windows)))), max_size=4),
        label="runs between changes",
    )
    for customer in customers:
        for window in windows:
            put_order(pipeline, customer, window.start + dt.timedelta(seconds=150))
    # deletes belong to the window of their commit (now): let those windows count as closed
    no_grace = lambda: -dt.timedelta(minutes=2 * window_minutes())  # noqa: E731
    monkeypatch.setattr(window_module, "grace", no_grace)
    monkeypatch.setattr(capture, "grace", no_grace)

    # two warehouses, each with its slot from before the changes: one runs windows between them
    after_all = pipeline.new_warehouse()
    capture.init()
    interleaved = pipeline.new_warehouse(keep_slot=True)
    capture.init()
    began = utcnow()
    for i in range(len(events) + 1):
        for position, w in runs:
            if position == i:
                assert run_windows(windows[w]) == luigi.LuigiStatusCode.SUCCESS
        if i == len(events):
            break
        op, customer, second = events[i]
        if op == "delete":
            delete(pipeline, customer)
        else:
            at = windows[0].start + dt.timedelta(seconds=second)
            (insert if op == "insert" else update)(pipeline, customer, f"{op}-{second}", at)
    now_windows = [
        Window(start, window_minutes())
        for start in {window_start_of(began), window_start_of(utcnow())}
        if start >= windows[-1].end
    ]

    results = {}
    for url in (interleaved, after_all):
        use_warehouse(pipeline, url)
        capture.run()  # everything in the log landed first, so no window is re-opened after its run
        assert run_windows(*windows, *now_windows) == luigi.LuigiStatusCode.SUCCESS
        results[url] = marts(url)
        assert not backfill.plan([*windows, *now_windows]).todo
    assert results[interleaved] == results[after_all]
    for customer, life in zip(customers, [[e for e in events if e[1] == c] for c in customers], strict=True):
        versions = history(pipeline, customer)
        assert [row[0] for row in versions] == [f"{op}-{s}" for op, _, s in life if op != "delete"]
        assert any(row[3] for row in versions) == (life[-1][0] != "delete")
    for database in pipeline.databases[-2:]:
        drop_slot(pipeline.env, database)


def test_a_toasted_value_an_update_left_unchanged_is_known_though_its_insert_was_captured_before(pipeline):
    window = pipeline.window(0)
    (customer,) = ids_for(window, 1)
    capture.init()
    long_name = secrets.token_hex(3000)  # incompressible: stored out of line, sent as "unchanged" by the log
    insert(pipeline, customer, long_name, window.start + dt.timedelta(minutes=1))
    capture.run()  # the insert lands in its own capture run, before the update is committed
    source(
        pipeline,
        "update customers set state_code = 'RJ', datetime_updated = %s where customer_id = %s",
        (window.start + dt.timedelta(minutes=2), customer),
    )
    assert run_windows(window) == luigi.LuigiStatusCode.SUCCESS
    versions = query(
        pipeline.warehouse_url,
        "select last_name, state_code from analytics.dim_customers where customer_id = %s order by valid_from",
        (customer,),
    )
    assert versions == [(long_name, "SP"), (long_name, "RJ")]


def test_a_change_landing_while_its_window_builds_on_the_old_customers_is_built_again(pipeline):
    """A late change lands for a window while a task of it runs on the old customers: the capture's
    re-open waits for that task and drops its marker too, so no stale marker stands; a task whose input
    was re-opened before it started writes nothing and is no failure."""
    window = pipeline.window(0)
    (customer,) = ids_for(window, 1)
    capture.init()
    insert(pipeline, customer, "Silva", window.start + dt.timedelta(minutes=1))
    staging = TransformModel(window=window, model="stg_customers")
    assert luigi.build(flatten(staging.requires()), local_scheduler=True, log_level="WARNING")

    with closing(psycopg2.connect(pipeline.warehouse_url)) as holder, holder.cursor() as cur:
        # the transform will wait here, after it has claimed its window and holds its inputs
        cur.execute("lock table staging.stg_customers in access exclusive mode")
        building = _Background(staging.run)
        _wait_for(pipeline, "Lock", "the transform to wait for staging.stg_customers")
        update(pipeline, customer, "Souza", window.start + dt.timedelta(minutes=4))  # a late commit
        capturing = _Background(capture.run)
        _wait_for(pipeline, "Lock", "the capture's re-open to wait for the transform", count=2, done=capturing)
        holder.commit()
    building.join()
    capturing.join()
    assert _markers(pipeline, window) == set(), "the re-open dropped the marker the transform wrote on the old rows"

    # a task that Luigi scheduled before the re-open finds its input gone: nothing written, no failure
    with pytest.raises(InputReopened, match="load:customers was re-opened"):
        staging.run()
    staging.trigger_event(luigi.Event.FAILURE, staging, InputReopened("load:customers was re-opened"))
    assert query(pipeline.warehouse_url, "select count(*) from storepipe.task_failures") == [(0,)]
    assert run_windows(window) == luigi.LuigiStatusCode.SUCCESS
    assert [row[0] for row in history(pipeline, customer)] == ["Silva", "Souza"]


class _Background(threading.Thread):
    """A call in a thread of its own whose error, if any, `join` raises."""

    def __init__(self, call):
        super().__init__(daemon=True)
        self.call, self.error = call, None
        self.start()

    def run(self):
        try:
            self.call()
        except BaseException as err:  # handed to join()
            self.error = err

    def join(self, timeout: float = 60) -> None:
        super().join(timeout)
        assert not self.is_alive(), f"{self.call} did not finish"
        if self.error:
            raise self.error


def _wait_for(pipeline, wait_type: str, what: str, count: int = 1, done=None) -> None:
    """Until `count` of the warehouse's sessions wait on a lock (or `done` has finished: the assertions
    after it tell whether that was right)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        (waiting,) = query(
            pipeline.warehouse_url,
            "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = %s",
            (wait_type,),
        )[0]
        if waiting >= count or (done is not None and not done.is_alive()):
            return
        time.sleep(0.02)
    raise AssertionError(f"waited 30 s for {what}")


def _markers(pipeline, window) -> set[str]:
    rows = query(
        pipeline.warehouse_url, "select task_name from storepipe.markers where window_start = %s", (window.start,)
    )
    return {row[0] for row in rows}
