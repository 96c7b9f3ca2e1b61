"""`storepipe cdc init`: one idempotent set-up command that starts the customers' change history from a
consistent snapshot (writes running meanwhile are seen once, in the snapshot or in the log), shows in
`storepipe status`, and `--reset` starts a new history after the slot is gone without losing the old one."""

import datetime as dt
import itertools
import threading
import time

import luigi

from storepipe.cli import main
from storepipe.sources import customer_log
from storepipe.tasks import capture
from tests.e2e.test_every_change_captured import history, ids_for, insert, update
from tests.helpers import query, run_windows

END_OF_TIME = dt.datetime(9999, 12, 31)


def test_init_takes_the_snapshot_once_then_is_a_no_op_and_status_shows_the_slot(pipeline, capsys):
    window = pipeline.window(0)
    (customer,) = ids_for(window, 1)
    insert(pipeline, customer, "Silva", window.start + dt.timedelta(minutes=1))
    slot = capture.slot_name()

    assert main(["cdc", "init"]) == 0
    first = capsys.readouterr().out
    assert "the history starts with a snapshot of" in first and f"slot {slot} at " in first
    snapshots = query(pipeline.warehouse_url, "select count(*) from storepipe.capture_runs where kind = 'snapshot'")
    assert snapshots == [(1,)]
    position = customer_log.position(pipeline.env["SOURCE_DB_CAPTURE_URL"], slot)

    assert main(["cdc", "init"]) == 0
    assert "initialized already" in capsys.readouterr().out
    assert query(pipeline.warehouse_url, "select count(*) from storepipe.capture_runs") == snapshots
    assert customer_log.position(pipeline.env["SOURCE_DB_CAPTURE_URL"], slot) == position, "no second slot"

    assert main(["status", "--start", window.label, "--end", window.end.strftime("%Y-%m-%dT%H:%M")]) == 0
    out = capsys.readouterr().out
    assert f"capture    log      slot {slot}: lag " in out and "of WAL held" in out

    # the customer from the snapshot reaches the history
    assert run_windows(window) == luigi.LuigiStatusCode.SUCCESS
    assert history(pipeline, customer) == [("Silva", window.start + dt.timedelta(minutes=1), END_OF_TIME, True)]


def test_reset_after_the_slot_is_gone_keeps_the_history_and_adds_the_gap_as_its_result(pipeline, capsys):
    first_window, second_window = pipeline.window(0), pipeline.window(1)
    changed, unchanged = ids_for(first_window, 2)
    at = first_window.start
    capture.init()
    insert(pipeline, changed, "Silva", at + dt.timedelta(minutes=1))
    update(pipeline, changed, "Souza", at + dt.timedelta(minutes=2))
    insert(pipeline, unchanged, "Costa", at + dt.timedelta(minutes=3))
    assert run_windows(first_window) == luigi.LuigiStatusCode.SUCCESS

    # the slot goes (lost to max_slot_wal_keep_size, or dropped by a DBA); a change meanwhile is not logged
    customer_log.drop(pipeline.env["SOURCE_DB_ADMIN_URL"], capture.slot_name())
    gap = second_window.start + dt.timedelta(minutes=1)
    update(pipeline, changed, "Lima", gap)

    assert main(["cdc", "init"]) == 2, "a started history without its slot is not silently restarted"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "storepipe cdc init --reset" in err and "Traceback" not in err

    assert main(["cdc", "init", "--reset"]) == 0
    assert "a new history starts with a snapshot of" in capsys.readouterr().out
    assert run_windows(first_window, second_window) == luigi.LuigiStatusCode.SUCCESS
    assert history(pipeline, changed) == [
        ("Silva", at + dt.timedelta(minutes=1), at + dt.timedelta(minutes=2), False),
        ("Souza", at + dt.timedelta(minutes=2), gap, False),
        ("Lima", gap, END_OF_TIME, True),
    ], "the old history stays; the gap is seen as its result"
    assert history(pipeline, unchanged) == [("Costa", at + dt.timedelta(minutes=3), END_OF_TIME, True)], (
        "a version both the log and the new snapshot hold counts once"
    )

    # the new slot goes on capturing
    update(pipeline, changed, "Rocha", gap + dt.timedelta(minutes=1))
    assert capture.run().reopened == 1
    assert run_windows(second_window) == luigi.LuigiStatusCode.SUCCESS
    assert [row[0] for row in history(pipeline, changed)] == ["Silva", "Souza", "Lima", "Rocha"]


class _Writer(threading.Thread):
    """The application, updating and creating customers without pause while the snapshot is taken."""

    def __init__(self, pipeline, customers: list[int], start: dt.datetime):
        super().__init__(daemon=True)
        self.pipeline, self.customers, self.start_at = pipeline, customers, start
        self.written: dict[int, list[str]] = {customer: [] for customer in customers}
        self.stop, self.writes = threading.Event(), 0

    def run(self):
        while not self.stop.is_set() and self.writes < 1500:
            customer = self.customers[self.writes % len(self.customers)]
            name = f"w{self.writes}"
            at = self.start_at + dt.timedelta(milliseconds=400 * self.writes)
            (insert if not self.written[customer] else update)(self.pipeline, customer, name, at)
            self.written[customer].append(name)
            self.writes += 1


def test_a_snapshot_taken_while_the_application_writes_sees_every_change_once(pipeline):
    windows = [pipeline.window(i) for i in range(3)]
    customers = ids_for(windows[0], 6)
    writer = _Writer(pipeline, customers, windows[0].start + dt.timedelta(seconds=1))
    writer.start()
    while writer.writes < 50:
        time.sleep(0.01)
    before = writer.writes
    capture.init()
    after = writer.writes
    while writer.writes < after + 2 * len(customers):
        time.sleep(0.01)
    writer.stop.set()
    writer.join()
    assert after > before, "the application wrote while the snapshot was taken"

    assert run_windows(*windows) == luigi.LuigiStatusCode.SUCCESS
    for customer in customers:
        versions = history(pipeline, customer)
        names = [row[0] for row in versions]
        written = writer.written[customer]
        # the snapshot holds some prefix of the customer's writes as their result, the log every later one
        assert names == written[len(written) - len(names) :], f"customer {customer}: a change missed or doubled"
        assert len(names) >= 2, "a version from the snapshot (or the log) and the ones written after it"
        assert all(a[2] == b[1] for a, b in itertools.pairwise(versions)), "versions are contiguous"
        assert [row[3] for row in versions] == [False] * (len(versions) - 1) + [True]
