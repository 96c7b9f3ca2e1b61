"""Invariant 12 across two systems: the change capture killed (SIGKILL) at any instant, in the snapshot, between
the lake and the ledger or between the ledger and the slot's advance, then run once cleanly, has landed and
recorded every change exactly once."""

import collections
import csv
import io
import signal
import subprocess
import sys
import time

from storepipe.lake.objects import Lake
from storepipe.tasks import capture
from tests.e2e.test_every_change_captured import ids_for
from tests.helpers import REPO, query

CUSTOMERS = 3_000
ROUNDS = 6
CHILD = """
import sys
from storepipe.tasks import capture
capture.BATCH_MESSAGES = 400  # many small runs: many instants between lake, ledger and slot
print("ready", flush=True)
capture.init() if sys.argv[1] == "init" else capture.run()
"""


class Killer:
    """Kill after a delay that follows the machine's speed: longer after a kill that left the ledger as it
    was, shorter after a capture that finished first, so the kills spread over the capture's phases."""

    def __init__(self, url: str):
        self.url, self.delay, self.killed, self.phases = url, 0.05, 0, set()

    def __call__(self, what: str) -> None:
        before = _ledger(self.url)
        killed = _capture(what, self.delay)
        after = _ledger(self.url)
        self.killed += killed
        self.phases.add((what, *after))
        self.delay *= 0.5 if not killed else 1.0 if after != before else 1.7


def _capture(what: str, delay: float) -> bool:
    """Run a capture in its own process and SIGKILL it `delay` seconds into its work; True if it was killed."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, what], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert child.stdout.readline().strip() == "ready"
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    return child.wait(timeout=120) == -signal.SIGKILL


def _landed(url: str, ids: range) -> tuple[collections.Counter, collections.Counter]:
    """(snapshot rows, changes) of these customers in the recorded segments, counted by last name."""
    lake = Lake()
    snapshot, changes = collections.Counter(), collections.Counter()
    slot = capture.slot_name()
    for (key,) in query(url, "select segment_key from storepipe.capture_segments where slot = %s", (slot,)):
        with lake.open(key) as f:
            for row in csv.DictReader(io.TextIOWrapper(f, encoding="utf-8")):
                if int(row["customer_id"]) in ids:
                    (snapshot if row["op"] == "snapshot" else changes)[row["last_name"]] += 1
    return snapshot, changes


def _ledger(url: str) -> tuple[int, int]:
    return query(url, "select count(*), coalesce(sum(segments), 0) from storepipe.capture_runs")[0]


def test_kills_across_snapshot_landing_ledger_and_advance_then_one_clean_run_land_every_change_once(pipeline):
    window = pipeline.window(0)
    first = ids_for(window, 1)[0]
    ids = range(first, first + CUSTOMERS)
    admin = pipeline.env["SOURCE_DB_ADMIN_URL"]
    query(
        admin,
        "insert into customers select id, 'Ana', 'n' || id, 'SP', %s, %s from generate_series(%s, %s) as id",
        (window.start, window.start, ids[0], ids[-1]),
    )
    try:
        _kill_and_check(pipeline, window, ids)
    finally:  # later tests' snapshots read the whole table
        query(admin, "delete from customers where customer_id between %s and %s", (ids[0], ids[-1]))


def _kill_and_check(pipeline, window, ids) -> None:
    admin, url = pipeline.env["SOURCE_DB_ADMIN_URL"], pipeline.warehouse_url
    kill = Killer(url)
    for _ in range(3):  # the snapshot: the slot created, its segments half landed, its manifest, its ledger
        kill("init")
    capture.init()

    expected = collections.Counter()
    for r in range(ROUNDS):
        # one round of updates, 100 customers a transaction, each version with a name of its own
        for low in range(ids[0], ids[-1] + 1, 100):
            query(
                admin,
                "update customers set last_name = %s || customer_id, datetime_updated = %s"
                " where customer_id between %s and %s",
                (f"r{r}-", window.start + (r + 1) * (window.end - window.start) / (ROUNDS + 2), low, low + 99),
            )
        expected.update(f"r{r}-{i}" for i in ids)
        kill("changes")
        kill("changes")
    assert kill.killed >= 10, f"only {kill.killed} captures were killed while at work"
    assert len(kill.phases) >= 5, f"kills should land in many phases, saw {sorted(kill.phases)}"

    capture.run()
    assert capture.run().changes == 0, "the slot stands past every change"
    snapshot, landed = _landed(url, ids)
    assert snapshot == collections.Counter(f"n{i}" for i in ids), "the snapshot holds each customer once"
    assert landed == expected, "every change landed and recorded once"


def test_captures_racing_each_other_while_the_application_writes_land_every_change_once(pipeline):
    window = pipeline.window(0)
    first = ids_for(window, 1)[0]
    ids = range(first, first + 500)
    admin = pipeline.env["SOURCE_DB_ADMIN_URL"]
    capture.init()
    query(
        admin,
        "insert into customers select id, 'Ana', 'n' || id, 'SP', %s, %s from generate_series(%s, %s) as id",
        (window.start, window.start, ids[0], ids[-1]),
    )
    try:
        expected = collections.Counter(f"n{i}" for i in ids)
        racers = []
        for r in range(4):
            for low in range(ids[0], ids[-1] + 1, 50):
                query(
                    admin,
                    "update customers set last_name = %s || customer_id where customer_id between %s and %s",
                    (f"r{r}-", low, low + 49),
                )
            expected.update(f"r{r}-{i}" for i in ids)
            # three workers' captures at once (three cron runs, or a backfill's workers), each its own process
            racers += [
                subprocess.Popen([sys.executable, "-c", CHILD, "changes"], cwd=REPO, stdout=subprocess.DEVNULL)
                for _ in range(3)
            ]
        assert [racer.wait(timeout=300) for racer in racers] == [0] * len(racers)
        capture.run()
        assert _landed(pipeline.warehouse_url, ids) == (collections.Counter(), expected)
    finally:
        query(admin, "delete from customers where customer_id between %s and %s", (ids[0], ids[-1]))
