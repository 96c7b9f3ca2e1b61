"""Invariant 3 (atomic): a worker killed at any instant leaves each table's window as it was or as
it will be, never partial, readers never see a mix, and the next run repairs it without help."""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest

from tests.helpers import REPO, never_extracted, query, table_hashes

ORDERS = 200_000
KILLS = 12  # at instants spread over the run; one more right as each marker commits


def _luigi(window, settings: Path) -> subprocess.Popen:
    luigi_bin = Path(sys.executable).parent / "luigi"
    return subprocess.Popen(
        [
            str(luigi_bin),
            "--module",
            "storepipe",
            "RunWindow",
            "--window",
            window.label,
            "--local-scheduler",
            "--no-lock",
            "--log-level",
            "WARNING",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "LUIGI_CONFIG_PATH": str(settings)},
    )


def _query_capture(tmp_path: Path) -> Path:
    """The tests' settings with `[customer_db] capture = query`.

    This test wipes the lake between kills, and the log capture's lake copy is the only one once its
    slot has moved on; on the dev stack's single server the slot also decodes the warehouse's own WAL
    (200k orders a run), which shifts the run's phases. Kills across the log capture are not covered here.
    """
    settings = tmp_path / "luigi.cfg"
    settings.write_text(Path(os.environ["LUIGI_CONFIG_PATH"]).read_text() + "\n[customer_db]\ncapture = query\n")
    return settings


class _Reader(threading.Thread):
    """Polls the window's row counts the way an analyst's query would, while the worker runs, and how
    many of the window's markers have committed (`reached(n)`: an event set once n have)."""

    def __init__(self, url: str, window, markers: int):
        super().__init__(daemon=True)
        self.url, self.window, self.seen, self.done = url, window, set(), threading.Event()
        self.markers, self.reached = markers, threading.Event()

    def run(self):
        conn = psycopg2.connect(self.url)
        conn.autocommit = True
        with conn.cursor() as cur:
            while not self.done.is_set():
                cur.execute(
                    "select (select count(*) from store.orders where window_start = %(w)s),"
                    " (select count(*) from analytics.fct_orders where window_start = %(w)s),"
                    " (select count(*) from storepipe.markers where window_start = %(w)s)",
                    {"w": self.window.start},
                )
                orders, facts, markers = cur.fetchone()
                self.seen.add((orders, facts))
                if markers >= self.markers:
                    self.reached.set()
                time.sleep(0.01)
        conn.close()


# Kills at instants spread over a reference run's duration, and right as each of the window's markers
# commits (the phases between two tasks, however short: a landed copy committed with its extract, say,
# before the load that swaps it in), each after a fresh start: about ten reference runs, which on a
# busy machine is more than the suite's 300 s per test
@pytest.mark.timeout(900)
def test_kill_at_any_instant_then_repair(pipeline, tmp_path):
    settings = _query_capture(tmp_path)
    window = pipeline.window(0)
    pipeline.generate(window, customers=30, orders=ORDERS)
    empty = table_hashes(pipeline.warehouse_url)

    started = time.monotonic()
    reference_run = _luigi(window, settings)
    assert reference_run.wait(timeout=170) == 0
    duration = time.monotonic() - started
    reference = table_hashes(pipeline.warehouse_url)
    assert reference["store.orders"][0] == ORDERS
    [(markers,)] = query(
        pipeline.warehouse_url, "select count(*) from storepipe.markers where window_start = %s", (window.start,)
    )

    pipeline.new_warehouse()
    url, lake = pipeline.warehouse_url, Path(urlsplit(pipeline.env["LAKE_URL"]).path)
    instants = [(duration * (n + 1) / (KILLS + 1), None) for n in range(KILLS)]
    instants += [(None, n) for n in range(1, markers)]
    markers_at_kill = []
    for kill, (after, marker) in enumerate(instants):
        # start over each time, lake copy included, so every phase (extract upload too) runs again
        never_extracted(url, window)
        shutil.rmtree(lake, ignore_errors=True)
        reader = _Reader(url, window, marker or markers + 1)
        reader.start()
        worker = _luigi(window, settings)
        if marker is None:
            time.sleep(after)
        else:
            assert reader.reached.wait(timeout=170), f"marker {marker} never committed"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        reader.done.set()
        reader.join()

        assert reader.seen <= {(0, 0), (ORDERS, 0), (ORDERS, ORDERS)}, "a reader saw a partial window"
        after_kill = table_hashes(url)
        for table, value in after_kill.items():
            assert value in (empty[table], reference[table]), f"{table} partial after kill {kill}"
        markers_at_kill.append(
            query(url, "select count(*) from storepipe.markers where window_start = %s", (window.start,))[0][0]
        )

    assert len(set(markers_at_kill)) >= 4, f"kills should land in many phases, saw marker counts {markers_at_kill}"
    repair = _luigi(window, settings)
    assert repair.wait(timeout=170) == 0
    assert table_hashes(url) == reference
