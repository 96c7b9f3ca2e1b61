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
KILLS = 20


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
    """Polls the window's row counts the way an analyst's query would, while the worker runs."""

    def __init__(self, url: str, window):
        super().__init__(daemon=True)
        self.url, self.window, self.seen, self.done = url, window, set(), threading.Event()

    def run(self):
        conn = psycopg2.connect(self.url)
        conn.autocommit = True
        with conn.cursor() as cur:
            while not self.done.is_set():
                cur.execute(
                    "select (select count(*) from store.orders where window_start = %(w)s),"
                    " (select count(*) from analytics.fct_orders where window_start = %(w)s)",
                    {"w": self.window.start},
                )
                self.seen.add(cur.fetchone())
                time.sleep(0.01)
        conn.close()


# 20 kills spread over a reference run's duration, each after a fresh start: about ten reference runs,
# which on a busy machine is more than the suite's 300 s per test
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

    pipeline.new_warehouse()
    url, lake = pipeline.warehouse_url, Path(urlsplit(pipeline.env["LAKE_URL"]).path)
    markers_at_kill = []
    for kill in range(KILLS):
        # start over each time, lake copy included, so every phase (extract upload too) runs again
        never_extracted(url, window)
        shutil.rmtree(lake, ignore_errors=True)
        reader = _Reader(url, window)
        reader.start()
        worker = _luigi(window, settings)
        time.sleep(duration * (kill + 1) / (KILLS + 1))
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        reader.done.set()
        reader.join()

        assert reader.seen <= {(0, 0), (ORDERS, 0), (ORDERS, ORDERS)}, "a reader saw a partial window"
        after = table_hashes(url)
        for table, value in after.items():
            assert value in (empty[table], reference[table]), f"{table} partial after kill {kill}"
        markers_at_kill.append(
            query(url, "select count(*) from storepipe.markers where window_start = %s", (window.start,))[0][0]
        )

    assert len(set(markers_at_kill)) >= 4, f"kills should land in many phases, saw marker counts {markers_at_kill}"
    repair = _luigi(window, settings)
    assert repair.wait(timeout=170) == 0
    assert table_hashes(url) == reference
