"""The ledger at scale: `storepipe backfill --dry-run` and `storepipe status` over a year of complete
windows against the same over one window, as a user runs them (the CLI, timed from start to exit), and
the cron line (`storepipe backfill --hours-back 24`) over the year's last day (issue 18).

`python -m benchmarks.ledger` starts its own stack in a temporary home and seeds its warehouse with the
markers of a year of complete windows (the tree's and the marts' own: 12 a window, 1.26M) up to the
newest closed window and an hour past it, so that windows closing during the run are complete too;
then VACUUM ANALYZE, as autovacuum leaves a table that grew over a year. Each command runs
LEDGER_REPEATS times (default 5), interleaved; the medians and the ratios are logged beside issue 18's
target (a year in at most LEDGER_S, and at most LEDGER_RATIO times one window).

LEDGER_CHECKOUTS=/path/one,/path/two also times the CLI of other checkouts (a worktree of another
commit), interleaved with this one against the same warehouse: before and after from one run.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import statistics
import subprocess  # nosec B404  # the benchmark times the CLI as a user runs it
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import psycopg2

from benchmarks import db
from storepipe.devstack import stack
from storepipe.errors import StorepipeError
from storepipe.tasks import RunWindow, completeness
from storepipe.transform import versions
from storepipe.window import LABEL_FORMAT, closed_until, window_minutes

log = logging.getLogger("benchmarks.ledger")

ROOT = Path(__file__).resolve().parent.parent
LEDGER_S = 2.0  # issue 18: a year of complete windows checked in at most this
LEDGER_RATIO = 3.0  # and in at most this many times one window's check
AHEAD = dt.timedelta(hours=1)  # markers past the newest closed window: the run's own minutes stay complete


def seed(warehouse_url: str, first: dt.datetime, stop: dt.datetime) -> int:
    """The markers a finished range leaves for each window in [first, stop), on the current versions,
    then the table's statistics and visibility map; returns the markers written."""
    current, versioned = versions.current(), set(versions.versioned_markers())
    # the tree's markers, plus the marts' own (PublishMarts writes them beside `publish`), as a run leaves them
    names = sorted({name for family in completeness.families(RunWindow) for name in family.marker_names()} | versioned)
    minutes = window_minutes()
    with closing(psycopg2.connect(warehouse_url)) as conn:
        with conn, conn.cursor() as cur:
            cur.execute(
                db.load("ledger_seed"),
                {
                    "task_names": names,
                    "versions": [current[name].fingerprint if name in versioned else None for name in names],
                    "first": first,
                    "last": stop - dt.timedelta(minutes=minutes),
                    "minutes": minutes,
                },
            )
            written = cur.rowcount
        conn.autocommit = True  # VACUUM runs outside a transaction
        with conn.cursor() as cur:
            cur.execute(db.load("vacuum_markers"))
    return written


def cli(checkout: Path, env: dict[str, str], args: list[str], expect: str) -> float:
    """`storepipe <args>` from `checkout`'s code and luigi.cfg, timed from process start to exit; its
    output must hold `expect`, so a run that found the range other than complete is never a time."""
    began = time.perf_counter()
    done = subprocess.run(  # nosec B603  # our own interpreter and module, arguments built here
        [sys.executable, "-m", "storepipe", *args],
        cwd=checkout,
        env={**os.environ, **env, "PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0 or expect not in done.stdout:
        tail = (done.stdout[-500:] + done.stderr[-1500:]).strip()
        raise StorepipeError(
            f"`storepipe {' '.join(args)}` exited {done.returncode} without {expect!r}: {tail}",
            str(checkout),
            "run it by hand against the benchmark's warehouse",
        )
    return seconds


def commands(first: dt.datetime, until: dt.datetime) -> dict[str, tuple[list[str], str]]:
    """Each timed command (its arguments and what its output must say) over the year and over its last window."""
    one = until - dt.timedelta(minutes=window_minutes())
    year_windows = (until - first) // dt.timedelta(minutes=window_minutes())
    found = {}
    for span, start, count in (("year", first, year_windows), ("one", one, 1)):
        bounds = ["--start", f"{start:{LABEL_FORMAT}}", "--end", f"{until:{LABEL_FORMAT}}"]
        found[f"dry_{span}"] = (
            ["backfill", *bounds, "--dry-run"],
            f"{count} windows, {count} complete, 0 to run",
        )
        found[f"status_{span}"] = (["status", *bounds], f"{count} windows: {count} done, 0 failed, 0 missing, 0 open")
    day = 24 * 60 // window_minutes()
    found["cron"] = (["backfill", "--hours-back", "24", "--local-scheduler"], f"all {day} windows complete")
    return found


def measure(env: dict[str, str], checkouts: list[Path], repeats: int, days: int = 365) -> dict[str, dict[str, float]]:
    """Median seconds per checkout and command, against env's (migrated, empty) warehouse."""
    until = closed_until()
    first = until - dt.timedelta(days=days)
    began = time.perf_counter()
    written = seed(env["WAREHOUSE_URL"], first, until + AHEAD)
    log.info("%s markers seeded, %s .. %s (%.1f s)", f"{written:,}", first, until + AHEAD, time.perf_counter() - began)
    timed = commands(first, until)
    found: dict[str, dict[str, list[float]]] = {str(c): {name: [] for name in timed} for c in checkouts}
    for repeat in range(repeats):
        for checkout in checkouts:
            for name, (args, expect) in timed.items():
                found[str(checkout)][name].append(cli(checkout, env, args, expect))
        log.info("repeat %d of %d done", repeat + 1, repeats)
    return {c: {name: statistics.median(values) for name, values in runs.items()} for c, runs in found.items()}


def table(medians: dict[str, dict[str, float]], windows: int) -> str:
    """The medians of each checkout, with the year's ratio to one window and issue 18's verdict."""
    target = f"≤ {LEDGER_S:.0f} s and ≤ {LEDGER_RATIO:.0f}x"
    lines = [
        f"| checkout | command | 1 window s | a year ({windows:,} windows) s | ratio | {target} |",
        "|---|---|---|---|---|---|",
    ]
    for checkout, found in medians.items():
        for key, command in (("dry", "backfill --dry-run"), ("status", "status")):
            year, one = found[f"{key}_year"], found[f"{key}_one"]
            verdict = "PASS" if year <= LEDGER_S and year / one <= LEDGER_RATIO else "FAIL"
            lines.append(f"| {checkout} | {command} | {one:.2f} | {year:.2f} | {year / one:.2f} | {verdict} |")
        lines.append(f"| {checkout} | backfill --hours-back 24 (no-op day) | | | | {found['cron']:.2f} s |")
    return "\n".join(lines)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("storepipe", "luigi", "yoyo", "pgserver"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    repeats = int(os.environ.get("LEDGER_REPEATS") or 5)
    others = [Path(p).resolve() for p in (os.environ.get("LEDGER_CHECKOUTS") or "").split(",") if p]
    try:
        with tempfile.TemporaryDirectory(prefix="storepipe-ledger-") as folder:
            home = Path(folder) / "stack"
            env = stack.up(home, ports={"s3": 0, "risk_api": 0}, luigid=False)  # migrates the warehouse
            try:
                medians = measure({**env, "STOREPIPE_HOME": str(home)}, [ROOT, *others], repeats)
            finally:
                stack.down(home)
    except StorepipeError as err:
        print(f"storepipe: {err.line()}", file=sys.stderr)
        return 2
    print(table(medians, 365 * 24 * 60 // window_minutes()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
