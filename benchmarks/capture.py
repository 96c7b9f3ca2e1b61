"""Change capture throughput: `customer_log.read` + a CSV file vs the server's own pgoutput decoding.

`python -m benchmarks.capture` starts its own stack in a temporary home, makes CAPTURE_CHANGES
single-row updates (CAPTURE_PER_TRANSACTION to a transaction) after two slots, then times the server
decoding one slot and only counting (`pg_logical_slot_get_binary_changes`) against a child process
that reads the other slot with `customer_log.read`, writes every change to a CSV file and fsyncs it.
Logs changes/s of both, their ratio (issue 13's target: >= 0.1) and the child's peak memory.
Not part of `make bench`'s full run.

Knobs (environment): CAPTURE_CHANGES=100000  CAPTURE_PER_TRANSACTION=100  CAPTURE_REPEATS=3
"""

from __future__ import annotations

import csv
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import psycopg2

from benchmarks import db
from benchmarks.bench import case_failed, watch
from storepipe.devstack import stack
from storepipe.sources import customer_log

log = logging.getLogger("benchmarks.capture")

SERVER_SLOT = "bench_server"
CAPTURE_SLOT = "bench_capture"


def measure(env: dict[str, str], work: Path, changes: int, per_transaction: int) -> dict:
    """One run: both slots see the same `changes`; returns changes/s of each, their ratio, peak MB."""
    admin, capture = env["SOURCE_DB_ADMIN_URL"], env["SOURCE_DB_CAPTURE_URL"]
    with closing(psycopg2.connect(admin)) as conn, conn.cursor() as cur:
        conn.autocommit = True  # the update loop commits inside its DO block
        cur.execute(db.load("capture_seed"), {"customers": per_transaction})
        customer_log.drop(admin, SERVER_SLOT)
        customer_log.drop(admin, CAPTURE_SLOT)
        cur.execute(db.load("capture_create_slot"), {"slot": SERVER_SLOT})
        for _ in customer_log.init(capture, CAPTURE_SLOT):
            pass
        began = time.perf_counter()
        transactions = changes // per_transaction
        cur.execute(db.load("capture_updates"), {"transactions": transactions, "customers": per_transaction})
        log.info("%s changes written (%.1f s)", f"{changes:,}", time.perf_counter() - began)
        began = time.perf_counter()
        cur.execute(db.load("capture_server_count"), {"slot": SERVER_SLOT, "publication": customer_log.PUBLICATION})
        messages = cur.fetchone()[0]
        server_s = time.perf_counter() - began
    result_path, csv_path = work / "capture.json", work / "capture.csv"
    command = [sys.executable, "-m", "benchmarks.capture", "--child", CAPTURE_SLOT, str(csv_path), str(result_path)]
    code, _, peak = watch(command, {**os.environ, **env}, work / "capture.log")
    if code != 0:
        raise case_failed("capture", code, work / "capture.log")
    child = json.loads(result_path.read_text())
    if child["changes"] != changes:
        raise RuntimeError(f"capture read {child['changes']} changes, expected {changes}")
    customer_log.drop(admin, SERVER_SLOT)
    customer_log.drop(admin, CAPTURE_SLOT)
    csv_path.unlink()
    return {
        "changes": changes,
        "messages": messages,
        "server_changes_per_s": changes / server_s,
        "capture_changes_per_s": changes / child["seconds"],
        "ratio": server_s / child["seconds"],
        "peak_mb": max(peak, child["vmhwm_mb"]),
    }


def child(slot: str, csv_path: Path, result_path: Path) -> None:
    """Timed: read the slot to its end, one CSV line per change, fsync; untimed: report."""
    url = os.environ["SOURCE_DB_CAPTURE_URL"]
    began = time.perf_counter()
    changes = 0
    with open(csv_path, "w", newline="", encoding="utf-8") as out:
        write = csv.writer(out).writerow
        for change in customer_log.read(url, slot):
            write((change[0], change[1], change[2], change[3], *change[5]))
            changes += 1
        out.flush()
        os.fsync(out.fileno())
    seconds = time.perf_counter() - began
    peak = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    result_path.write_text(json.dumps({"seconds": seconds, "changes": changes, "vmhwm_mb": peak}))


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        return 0
    changes = int(os.environ.get("CAPTURE_CHANGES") or 100_000)
    per_transaction = int(os.environ.get("CAPTURE_PER_TRANSACTION") or 100)
    repeats = int(os.environ.get("CAPTURE_REPEATS") or 3)
    with tempfile.TemporaryDirectory(prefix="storepipe-capture-") as folder:
        home = Path(folder)
        env = stack.up(home / "stack", ports={"s3": 0, "risk_api": 0}, luigid=False)
        try:
            runs = [measure(env, home, changes, per_transaction) for _ in range(repeats)]
        finally:
            stack.down(home / "stack")
    for run in runs:
        log.info("run: %s", json.dumps({k: round(v, 3) for k, v in run.items()}))
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    log.info(
        "capture of %s changes: server decoding %.0f changes/s, read + CSV %.0f changes/s, ratio %.3f"
        " (target >= 0.1), peak memory %.0f MB",
        f"{changes:,}",
        median["server_changes_per_s"],
        median["capture_changes_per_s"],
        median["ratio"],
        median["peak_mb"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
