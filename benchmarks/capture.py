"""Change capture throughput, slot to lake: `storepipe.tasks.capture.run` vs the server's own pgoutput decoding.

Each run makes `changes` single-row updates of customers (CAPTURE_PER_TRANSACTION to a transaction)
after two new slots: one the server decodes and only counts (`pg_logical_slot_get_binary_changes`),
the other set up by `capture.init` (its snapshot recorded in the warehouse ledger), which a child
process (benchmarks/capture_child.py) then captures with `capture.run` into a file:// lake (pgoutput
decoding, a segment per window, the manifest, the ledger rows, the slot's advance). Returns changes/s
of both, their ratio (issue 13's target: >= 0.1) and the child's peak memory, after checking that the
capture's count and the landed segments' rows both equal the changes written.

`make bench` runs it (BENCH_CAPTURE_SIZES, BENCH_CAPTURE_REPEATS) against a fresh copy of the warehouse
per run. Standalone, `python -m benchmarks.capture` starts its own stack in a temporary home and runs
it against the stack's warehouse. Knobs (environment): CAPTURE_CHANGES=100000  CAPTURE_PER_TRANSACTION=100
CAPTURE_REPEATS=3
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg2

from benchmarks import db, report
from benchmarks.bench import case_failed, watch
from storepipe.devstack import stack
from storepipe.errors import StorepipeError
from storepipe.lake.objects import Lake
from storepipe.sources import customer_log
from storepipe.tasks import capture
from storepipe.warehouse.ledger import CHANGES

log = logging.getLogger("benchmarks.capture")

PER_TRANSACTION = 100
FIRST_ID = 1_000_001  # the benchmark's customers: ids no other case writes or reads


def measure(env: dict[str, str], work: Path, changes: int, label: str, per_transaction: int = PER_TRANSACTION) -> dict:
    """One run against env's source DB and (migrated) warehouse; `label` names its slots and lake."""
    if changes % per_transaction:
        raise StorepipeError(
            f"{changes} changes are not whole transactions of {per_transaction}",
            "BENCH_CAPTURE_SIZES or CAPTURE_CHANGES",
            f"use multiples of {per_transaction}",
        )
    admin, url = env["SOURCE_DB_ADMIN_URL"], env["SOURCE_DB_CAPTURE_URL"]
    server_slot, slot = f"bench_server_{label}", f"bench_capture_{label}"
    folder = work / f"capture-{label}"
    folder.mkdir(parents=True)
    # the capture reads its warehouse and lake from the environment, in this process and the child
    settings = {"WAREHOUSE_URL": env["WAREHOUSE_URL"], "LAKE_URL": (folder / "lake").as_uri()}
    lake = Lake(settings["LAKE_URL"])
    params = {"first_id": FIRST_ID, "customers": per_transaction}
    try:
        with closing(psycopg2.connect(admin)) as conn, conn.cursor() as cur:
            conn.autocommit = True  # the update loop commits inside its DO block
            cur.execute(db.load("capture_seed"), params)
            cur.execute(db.load("capture_create_slot"), {"slot": server_slot})
            with _environment(settings):
                capture.init(url, lake, slot)
            began = time.perf_counter()
            cur.execute(db.load("capture_updates"), {**params, "transactions": changes // per_transaction})
            log.info("%s changes written (%.1f s)", f"{changes:,}", time.perf_counter() - began)
            began = time.perf_counter()
            cur.execute(db.load("capture_server_count"), {"slot": server_slot, "publication": customer_log.PUBLICATION})
            messages = cur.fetchone()[0]
            server_s = time.perf_counter() - began
        result_path = folder / "result.json"
        command = [sys.executable, "-m", "benchmarks.capture_child", slot, str(result_path)]
        code, _, peak = watch(command, {**os.environ, **env, **settings}, folder / "log")
        if code != 0:
            raise case_failed("capture", code, folder / "log")
        child = json.loads(result_path.read_text())
        landed = landed_changes(lake, slot)
        if child["changes"] != changes or landed != changes:
            # a capture that loses or doubles changes has no throughput worth reporting
            raise StorepipeError(
                f"{changes:,} changes written, the capture counted {child['changes']:,} and landed {landed:,}",
                f"slot {slot}",
                "the capture is wrong: reproduce it with `python -m benchmarks.capture`",
            )
    finally:
        customer_log.drop(admin, server_slot)
        customer_log.drop(admin, slot)
    shutil.rmtree(folder)
    return {
        "changes": changes,
        "messages": messages,
        "runs": child["runs"],
        "server_changes_per_s": changes / server_s,
        "capture_changes_per_s": changes / child["seconds"],
        "ratio": server_s / child["seconds"],
        "peak_mb": max(peak, child["vmhwm_mb"]),
    }


def landed_changes(lake: Lake, slot: str) -> int:
    """Rows of the slot's change segments in the lake (not its snapshot), each segment read back whole
    and checked against the checksum its run's manifest recorded."""
    rows = 0
    for key in lake.list(f"{capture.SOURCE}/_capture/{slot}/"):
        with lake.open(key) as f:
            manifest = json.load(f)
        if manifest["kind"] != CHANGES:
            continue
        for segment in manifest["segments"]:
            with lake.open_verified(segment["key"], segment["checksum"]) as f:
                found = sum(1 for _ in csv.reader(io.TextIOWrapper(f, encoding="utf-8", newline=""))) - 1
            if found != segment["rows"]:
                raise StorepipeError(
                    f"a segment holds {found} rows, its manifest says {segment['rows']}",
                    lake.locate(segment["key"]),
                    "the capture is wrong: reproduce it with `python -m benchmarks.capture`",
                )
            rows += found
    return rows


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        return standalone()
    except StorepipeError as err:
        print(f"storepipe: {err.line()}", file=sys.stderr)
        return 2


def standalone() -> int:
    """One size against a stack of its own in a temporary home; logs each run and the medians."""
    changes = int(os.environ.get("CAPTURE_CHANGES") or 100_000)
    per_transaction = int(os.environ.get("CAPTURE_PER_TRANSACTION") or PER_TRANSACTION)
    repeats = int(os.environ.get("CAPTURE_REPEATS") or 3)
    with tempfile.TemporaryDirectory(prefix="storepipe-capture-") as folder:
        home = Path(folder)
        env = stack.up(home / "stack", ports={"s3": 0, "risk_api": 0}, luigid=False)  # migrates the warehouse
        try:
            runs = [measure(env, home, changes, f"{changes}_{i}", per_transaction) for i in range(repeats)]
        finally:
            stack.down(home / "stack")
    for run in runs:
        log.info("run: %s", json.dumps({k: round(v, 3) for k, v in run.items()}))
    (summary,) = report.summarize_captures(runs)
    log.info(
        "capture of %s changes: server decoding %.0f changes/s, capture slot -> lake %.0f changes/s, ratio %.3f"
        " (target >= %.1f), peak memory %.0f MB",
        f"{changes:,}",
        summary.server_changes_per_s,
        summary.capture_changes_per_s,
        summary.ratio,
        report.CAPTURE_RATIO,
        summary.peak_mb,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
