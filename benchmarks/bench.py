"""`make bench`: every case in its own process, interleaved, repeated; medians and ratios to raw COPY.

Starts its own stack (PostgreSQL, moto S3, the risk API) in a temporary home, runs the cases of
benchmarks/child.py against fresh databases copied from a migrated template, writes
benchmarks/results/results.md and throughput.png, then stops the stack and removes the home.

Knobs (environment): BENCH_SIZES=100000,1000000,5000000  BENCH_REPEATS=3
BENCH_CASES=raw_copy,server_copy,floor,load_orders,whole_window,original_way,dlt (raw_copy and server_copy
always run: the faster is each size's 1.00)  BENCH_ORIGINAL_MAX=1000000  BENCH_DLT_MAX=100000
BENCH_OVERHEAD=1 (0: no no-op, backfill, fixed-cost or ledger runs)  BENCH_BACKFILL_WINDOWS=24
BENCH_BACKFILL_ORDERS=10000  BENCH_SMALL_WINDOWS=48  BENCH_SMALL_ORDERS=100 (the fixed cost of a window)
BENCH_NOOP_REPEATS=5  BENCH_LEDGER_REPEATS=3 (a year of complete windows)
BENCH_CAPTURE_SIZES=100000,1000000 (changes; empty or 0: no capture case)  BENCH_CAPTURE_REPEATS=1
BENCH_OUT=benchmarks/results
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import os
import platform
import shutil
import subprocess  # nosec B404  # the benchmark runs its loaders as child processes to measure them
import sys
import tempfile
import threading
import time
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path

import boto3
import psycopg2

from benchmarks import cpu, data, db, report
from storepipe import sqlfiles
from storepipe.devstack import stack
from storepipe.errors import StorepipeError
from storepipe.lake import landing
from storepipe.rows import QUARANTINE_COLUMNS
from storepipe.simulator import datagen
from storepipe.simulator.risk_api_app import score as risk_score
from storepipe.window import Window, window_minutes

log = logging.getLogger("benchmarks.bench")

ROOT = Path(__file__).resolve().parent.parent
BIG_WINDOW = "2024-01-01T10:00"  # the window every size's file belongs to
BACKFILL_START = dt.datetime(2024, 1, 2)
SMALL_START = dt.datetime(2024, 1, 5)  # the small windows' backfill: a day of its own in the shared source
NOOP_DAY = ("2024-01-03T00:00", "2024-01-04T00:00")
NOOP_ONE = ("2024-01-03T00:00", "2024-01-03T00:05")
YEAR = ("2024-01-03T00:00", "2025-01-02T00:00")  # 365 days of complete windows for the ledger's commands
ROWS_PER_OBJECT = 100_000  # orders per CSV object in the bucket (≈ 11 MB)
STATE_CODES = datagen.STATE_CODES


@dataclass
class Settings:
    sizes: list[int]
    repeats: int
    cases: list[str]
    original_max: int
    dlt_max: int
    overhead: bool
    backfill_windows: int
    backfill_orders: int
    noop_repeats: int
    out: Path
    capture_sizes: list[int] = field(default_factory=list)
    capture_repeats: int = 1
    small_windows: int = 48
    small_orders: int = 100
    ledger_repeats: int = 3

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Settings:
        def ints(name: str, default: str) -> list[int]:
            text = env.get(name) or default
            try:
                found = [int(part) for part in text.split(",") if part.strip()]
            except ValueError:
                found = []
            if not found or min(found) < 1:
                raise StorepipeError(f"{name}={text!r} is not a list of positive integers", name, f"e.g. {default}")
            return found

        cases = [c.strip() for c in (env.get("BENCH_CASES") or ",".join(report.CASES)).split(",") if c.strip()]
        unknown = sorted(set(cases) - set(report.CASES))
        if unknown:
            raise StorepipeError(f"unknown benchmark cases {unknown}", "BENCH_CASES", f"use {','.join(report.CASES)}")
        cases.extend(report.LIMIT_CASES)  # every ratio needs the limit, the faster of the two
        # unset: the default sizes; set and empty (or 0): no capture case
        capture_text = env.get("BENCH_CAPTURE_SIZES", "100000,1000000")
        capture_sizes = [] if capture_text.strip() in ("", "0") else sorted(ints("BENCH_CAPTURE_SIZES", capture_text))
        from benchmarks.capture import PER_TRANSACTION

        if any(size % PER_TRANSACTION for size in capture_sizes):
            # checked before the stack starts, not after every other case has run
            raise StorepipeError(
                f"BENCH_CAPTURE_SIZES={capture_text!r}: the changes come {PER_TRANSACTION} to a transaction",
                "BENCH_CAPTURE_SIZES",
                f"use multiples of {PER_TRANSACTION}",
            )
        # the defaults keep `make bench` under 20 minutes on 2 cores (issue 18) with the floor, the server-side
        # COPY, the small windows and the ledger added: dlt stops at 100k (its ratio is the same at 1M, and
        # 1M cost 2.5 min), one capture repeat per size, the 10k-order backfill over 24 windows, not 96
        return cls(
            sizes=sorted(ints("BENCH_SIZES", "100000,1000000,5000000")),
            repeats=ints("BENCH_REPEATS", "3")[0],
            cases=[c for c in report.CASES if c in cases],
            original_max=ints("BENCH_ORIGINAL_MAX", "1000000")[0],
            dlt_max=ints("BENCH_DLT_MAX", "100000")[0],
            overhead=(env.get("BENCH_OVERHEAD") or "1") != "0",
            backfill_windows=ints("BENCH_BACKFILL_WINDOWS", "24")[0],
            backfill_orders=ints("BENCH_BACKFILL_ORDERS", "10000")[0],
            noop_repeats=ints("BENCH_NOOP_REPEATS", "5")[0],
            out=ROOT / (env.get("BENCH_OUT") or "benchmarks/results"),
            capture_sizes=capture_sizes,
            capture_repeats=ints("BENCH_CAPTURE_REPEATS", "1")[0],
            small_windows=ints("BENCH_SMALL_WINDOWS", "48")[0],
            small_orders=ints("BENCH_SMALL_ORDERS", "100")[0],
            ledger_repeats=ints("BENCH_LEDGER_REPEATS", "3")[0],
        )

    def runs(self, case: str, rows: int) -> bool:
        """Whether `case` runs at `rows` (the slow baselines stop at their maximum size)."""
        limits = {"original_way": self.original_max, "dlt": self.dlt_max}
        return case in self.cases and rows <= limits.get(case, rows)


@dataclass
class Bench:
    """The running benchmark: the stack's settings, its work folder, and every run so far."""

    settings: Settings
    env: dict[str, str]
    work: Path
    runs: list[report.Run] = field(default_factory=list)
    files: dict[int, Path] = field(default_factory=dict)
    lakes: dict[int, Path] = field(default_factory=dict)
    seq: int = 0

    @property
    def admin_url(self) -> str:
        return self.env["SOURCE_DB_ADMIN_URL"]

    @property
    def warehouse_url(self) -> str:
        return self.env["WAREHOUSE_URL"]

    def cpu(self) -> cpu.Reading:
        """The machine's and the benchmark's CPU now (the stack's PostgreSQL counted as the benchmark's)."""
        return cpu.read(Path(self.env["STOREPIPE_HOME"]) / "pg")

    def others_since(self, before: cpu.Reading) -> float:
        """The share of the machine others used since `before`."""
        return cpu.others_share(before, self.cpu(), os.cpu_count() or 1)

    def folder(self, label: str) -> Path:
        self.seq += 1
        path = self.work / f"{self.seq:04d}-{label}"
        path.mkdir(parents=True)
        return path

    def child(self, case: str, args: dict, env: dict | None = None) -> tuple[dict, float, float]:
        """Run one case in its own process: (its result, wall seconds, peak RSS MB)."""
        folder = self.folder(case)
        result_path = folder / "result.json"
        command = [sys.executable, "-m", "benchmarks.child", case, json.dumps(args), str(result_path)]
        code, wall, peak = watch(command, {**os.environ, **self.env, **(env or {})}, folder / "log")
        if code != 0:
            raise case_failed(case, code, folder / "log")
        result = json.loads(result_path.read_text())
        return result, wall, max(peak, result.get("vmhwm_mb", 0.0))


def case_failed(case: str, code: int, log_path: Path) -> StorepipeError:
    """The error for a case that failed; its log is kept in benchmarks/data/, since the work folder goes."""
    kept = ROOT / "benchmarks" / "data" / f"failed-{case}.log"
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(log_path, kept)
    for line in log_path.read_text(errors="replace").splitlines()[-15:]:
        log.error("  %s", line)
    return StorepipeError(f"benchmark case {case} failed (exit {code})", str(kept), "read that log")


def watch(command: list[str], env: dict, log_path: Path) -> tuple[int, float, float]:
    """Run `command` to its end: (exit code, wall seconds, peak RSS MB polled from /proc while it runs).

    ru_maxrss would not do: a child spawned from this process inherits this process's peak.
    """
    with open(log_path, "ab") as out:
        began = time.perf_counter()
        # bandit B603: the benchmark's own child commands, built here from constants; no shell
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)  # nosec B603
        peak = [0.0]
        done = threading.Event()

        def poll() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _vmhwm_mb(proc.pid))
                done.wait(0.02)

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        code = proc.wait()
        wall = time.perf_counter() - began
        done.set()
        watcher.join()
    return code, wall, peak[0]


def _vmhwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0.0


# --- setup ---------------------------------------------------------------------------------------------


def big_window() -> Window:
    return Window.parse(BIG_WINDOW, window_minutes())


def prepare_files(bench: Bench) -> None:
    folder = ROOT / "benchmarks" / "data"
    for rows in bench.settings.sizes:
        began = time.perf_counter()
        bench.files[rows] = data.orders_csv(folder, big_window(), rows)
        size_mb = bench.files[rows].stat().st_size / 1e6
        log.info("data: %s rows, %.0f MB (%.1f s)", f"{rows:,}", size_mb, time.perf_counter() - began)


def prepare_lakes(bench: Bench) -> None:
    """A lake per size holding the file as the window's orders copy (linked, not copied) and no rejects."""
    window = big_window()
    for rows, path in bench.files.items():
        root = bench.work / "lakes" / str(rows)
        data_key, rejects_key = landing.keys("orders", window)
        (root / data_key).parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, root / data_key)
        except OSError:
            shutil.copyfile(path, root / data_key)
        with open(root / rejects_key, "w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerow(QUARANTINE_COLUMNS)
        bench.lakes[rows] = root


def s3_client(env: dict):
    return boto3.client(
        "s3",
        endpoint_url=env["S3_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )


def bucket_for(rows: int) -> str:
    return f"bench-orders-{rows}"


def customers(window: Window) -> dict[str, list]:
    """The big window's customers, created at its start: the whole window's source holds them, the floor's
    dim_customers their versions."""
    ids = list(range(1, data.CUSTOMERS + 1))
    return {
        "customer_ids": ids,
        "first_names": [f"Cliente {i}" for i in ids],
        "last_names": ["Bench"] * len(ids),
        "state_codes": [STATE_CODES[i % len(STATE_CODES)] for i in ids],
        "created": [window.start] * len(ids),
    }


def prepare_sources(bench: Bench) -> None:
    """The big window's customers in the source DB and each size's orders in a bucket of its own."""
    window = big_window()
    with closing(psycopg2.connect(bench.admin_url)) as conn, conn, conn.cursor() as cur:
        cur.execute(sqlfiles.load("simulator/insert_customers"), customers(window))
    s3 = s3_client(bench.env)
    for rows, path in bench.files.items():
        began = time.perf_counter()
        bucket = bucket_for(rows)
        s3.create_bucket(Bucket=bucket)
        for part, (minute, body) in enumerate(data.parts(path, ROWS_PER_OBJECT)):
            s3.put_object(Bucket=bucket, Key=f"orders/{minute:%Y/%m/%d/%H/%M}/part-{part:03d}.csv", Body=body)
        log.info("bucket %s: %s rows uploaded (%.1f s)", bucket, f"{rows:,}", time.perf_counter() - began)


# --- the cases -------------------------------------------------------------------------------------------


def run_case(bench: Bench, case: str, rows: int, repeat: int) -> report.Run:
    name, url = db.fresh(bench.admin_url, bench.warehouse_url, f"{case}_{rows}_{repeat}")
    db.quiesce(bench.admin_url)
    window = big_window()
    detail = None
    before = bench.cpu()
    try:
        if case == "raw_copy":
            seconds, peak = raw_copy(bench, url, bench.files[rows], rows, window)
        elif case == "server_copy":
            seconds, peak = server_copy(bench, name, url, bench.files[rows], rows, window)
        elif case == "floor":
            seconds, peak = floor(bench, url, bench.files[rows], rows, window)
        elif case == "load_orders":
            result, _, peak = bench.child(
                "load_orders",
                {
                    "window": window.label,
                    "rows": rows,
                    "checksum": data.checksum(bench.files[rows]),
                    "events": str(bench.folder("events") / "tasks.jsonl"),
                },
                {"WAREHOUSE_URL": url, "LAKE_URL": bench.lakes[rows].as_uri()},
            )
            seconds = result["seconds"]
        elif case == "whole_window":
            lake = bench.folder("lake")
            result, _, peak = bench.child(
                "whole_window",
                {"window": window.label, "rows": rows, "events": str(lake / "tasks.jsonl")},
                {"WAREHOUSE_URL": url, "LAKE_URL": (lake / "lake").as_uri(), "ORDERS_BUCKET": bucket_for(rows)},
            )
            shutil.rmtree(lake)
            seconds, detail = result["seconds"], result.get("detail")
        elif case == "original_way":
            result, _, peak = bench.child(
                "original_way",
                {"url": url, "csv": str(bench.files[rows]), "rows": rows, "window_start": _iso(window.start)},
            )
            seconds = result["seconds"]
        elif case == "dlt":
            pipelines = bench.folder("dlt")
            result, _, peak = bench.child(
                "dlt", {"url": url, "csv": str(bench.files[rows]), "rows": rows, "pipelines_dir": str(pipelines)}
            )
            shutil.rmtree(pipelines)
            seconds, detail = result["seconds"], result.get("detail")
        else:
            raise StorepipeError(f"no benchmark case {case}", "BENCH_CASES", f"use {','.join(report.CASES)}")
        others = bench.others_since(before)
    finally:
        db.drop(bench.admin_url, name)
    run = report.Run(case, rows, repeat, seconds, peak, detail, others)
    log.info(
        "%-12s %5s repeat %d: %7.2f s  %9s rows/s  %5.0f MB  others %3.0f%%",
        case,
        report.rows_label(rows),
        repeat + 1,
        seconds,
        f"{rows / seconds:,.0f}",
        peak,
        100 * others,
    )
    return run


def raw_copy(bench: Bench, url: str, path: Path, rows: int, window: Window) -> tuple[float, float]:
    """`psql \\copy` of the file into bench.raw_orders: the process is psql itself, timed from start to exit."""
    seconds, peak = run_psql(bench, "raw_copy", url, ["-c", copy_command(path)])
    _require_loaded(db.count_window(url, "bench", "raw_orders", window.start), rows, "psql \\copy", path)
    return seconds, peak


def server_copy(bench: Bench, name: str, url: str, path: Path, rows: int, window: Window) -> tuple[float, float]:
    """The server reads the file itself (`COPY ... FROM '<path>'`) into bench.raw_orders, in a psql run as the
    stack's superuser on this case's database (only this case: the pipeline's roles stay unprivileged)."""
    superuser = db.with_database(bench.admin_url, name)
    command = ["-v", f"path={path.resolve()}", "-f", str(db.SQL_DIR / "server_copy.psql")]
    seconds, peak = run_psql(bench, "server_copy", superuser, command)
    _require_loaded(db.count_window(url, "bench", "raw_orders", window.start), rows, "server-side COPY", path)
    return seconds, peak


def floor(bench: Bench, url: str, path: Path, rows: int, window: Window) -> tuple[float, float]:
    """The hand-written floor: one psql run, one transaction: the raw COPY into the unindexed bench.raw_orders,
    then one dedupe + customer-join INSERT into bench.floor_orders (fct_orders' shape and indexes)."""
    params = {**customers(window), "risk_scores": [risk_score(i, window.start) for i in range(1, data.CUSTOMERS + 1)]}
    with closing(psycopg2.connect(url)) as conn, conn, conn.cursor() as cur:
        # untimed: the dimension RunWindow's warehouse holds when it builds fct_orders
        cur.execute(db.load("floor_dim_customers"), params)
    db.quiesce(bench.admin_url)
    command = ["-1", "-c", copy_command(path), "-f", str(db.SQL_DIR / "floor_insert.sql")]
    seconds, peak = run_psql(bench, "floor", url, command)
    facts, unknown = db.floor_facts(url, window.start)
    _require_loaded(facts, rows, "the floor's facts", path)
    if unknown:
        raise StorepipeError(f"the floor found no customer for {unknown} orders", "benchmarks/sql/floor_insert.sql")
    return seconds, peak


def copy_command(path: Path) -> str:
    """The one `\\copy` of a file into bench.raw_orders (raw_copy.psql), for the raw COPY and the floor alike."""
    quoted = "'" + str(path).replace("'", "''") + "'"
    return (db.SQL_DIR / "raw_copy.psql").read_text().strip().format(path=quoted)


def run_psql(bench: Bench, case: str, url: str, args: list[str]) -> tuple[float, float]:
    """One psql process to its exit: (wall seconds, its peak RSS MB); a failure stops the run with its log."""
    folder = bench.folder(case)
    command = [str(psql()), url, "-X", "-q", "-v", "ON_ERROR_STOP=1", *args]
    code, seconds, peak = watch(command, dict(os.environ), folder / "log")
    if code != 0:
        raise case_failed(case, code, folder / "log")
    return seconds, peak


def _require_loaded(loaded: int, rows: int, what: str, path: Path) -> None:
    if loaded != rows:
        raise StorepipeError(
            f"{what} left {loaded} rows, not {rows}", str(path), "delete the file so it is written again"
        )


def psql() -> Path:
    import pgserver

    return Path(pgserver.__file__).resolve().parent / "pginstall" / "bin" / "psql"


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def matrix(settings: Settings) -> list[tuple[str, int, int]]:
    """(case, rows, repeat) in run order: repeats outermost, cases rotated each repeat so none always goes first."""
    order = []
    for repeat in range(settings.repeats):
        for rows in settings.sizes:
            cases = [c for c in settings.cases if settings.runs(c, rows)]
            shift = repeat % len(cases)
            order.extend((case, rows, repeat) for case in cases[shift:] + cases[:shift])
    return order


# --- overhead: no-op ranges and a backfill ----------------------------------------------------------------


def noop_overhead(bench: Bench) -> dict:
    """A no-op backfill over a day of complete windows vs over one, in-process and as the CLI, interleaved."""
    name, url = db.fresh(bench.admin_url, bench.warehouse_url, "noop")
    env = {"WAREHOUSE_URL": url}
    try:
        bench.child("seed_complete", {"start": NOOP_DAY[0], "end": NOOP_DAY[1]}, env)
        found: dict[str, list[float]] = {"day": [], "one": [], "cli_day": [], "cli_one": []}
        for _ in range(bench.settings.noop_repeats):
            for key, (start, end) in (("day", NOOP_DAY), ("one", NOOP_ONE)):
                result, _, _ = bench.child("noop", {"start": start, "end": end}, env)
                found[key].append(result["seconds"])
                found[f"cli_{key}"].append(
                    cli(bench, ["backfill", "--start", start, "--end", end, "--local-scheduler"], env, "nothing to do")
                )
    finally:
        db.drop(bench.admin_url, name)
    medians = {key: report.median(values) for key, values in found.items()}
    result = {
        "windows": windows_between(*NOOP_DAY),
        "repeats": bench.settings.noop_repeats,
        **medians,
        "ratio": medians["day"] / medians["one"],
        "cli_ratio": medians["cli_day"] / medians["cli_one"],
    }
    log.info(
        "no-op: day %.3f s, one window %.3f s (ratio %.2f); CLI %.2f s vs %.2f s",
        *[result[k] for k in ("day", "one", "ratio", "cli_day", "cli_one")],
    )
    return result


def ledger_overhead(bench: Bench) -> dict:
    """The ledger at scale: `backfill --dry-run`, `status` (the CLI) and `plan`'s work (in-process) over a year of
    complete windows vs over one window of the same warehouse, interleaved."""
    name, url = db.fresh(bench.admin_url, bench.warehouse_url, "ledger")
    env = {"WAREHOUSE_URL": url}
    try:
        began = time.perf_counter()
        seeded, _, _ = bench.child("seed_complete", {"start": YEAR[0], "end": YEAR[1]}, env)
        log.info("ledger: %s markers seeded (%.1f s)", f"{seeded['rows']:,}", _since(began))
        found: dict[str, list[float]] = {
            f"{k}_{span}": [] for k in ("plan", "dry", "status") for span in ("year", "one")
        }
        before = bench.cpu()
        for _ in range(bench.settings.ledger_repeats):
            for span, (start, end) in (("year", YEAR), ("one", NOOP_ONE)):
                windows = windows_between(start, end)
                result, _, _ = bench.child("plan", {"start": start, "end": end}, env)
                found[f"plan_{span}"].append(result["seconds"])
                dry = ["backfill", "--start", start, "--end", end, "--dry-run"]
                found[f"dry_{span}"].append(cli(bench, dry, env, f"{windows} windows, {windows} complete, 0 to run"))
                done = f"{windows} windows: {windows} done, 0 failed, 0 missing, 0 open\n"
                found[f"status_{span}"].append(cli(bench, ["status", "--start", start, "--end", end], env, done))
        others = bench.others_since(before)
    finally:
        db.drop(bench.admin_url, name)
    result = {
        "windows": windows_between(*YEAR),
        "markers_per_window": seeded["detail"]["markers_per_window"],
        "repeats": bench.settings.ledger_repeats,
        "others": others,
        **{key: report.median(values) for key, values in found.items()},
    }
    log.info(
        "ledger: dry-run a year %.2f s vs one %.2f s; status %.2f s vs %.2f s; plan %.3f s vs %.3f s",
        *[result[k] for k in ("dry_year", "dry_one", "status_year", "status_one", "plan_year", "plan_one")],
    )
    return result


def windows_between(start: str, end: str) -> int:
    """How many windows [start, end) holds."""
    span = dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)
    return int(span / dt.timedelta(minutes=window_minutes()))


def cli(bench: Bench, args: list[str], env: dict, expect: str) -> float:
    """`storepipe <args>` as a user runs it, timed from process start to exit; its output must hold `expect`,
    so a run that found the range other than complete is never reported as a time."""
    folder = bench.folder(f"cli_{args[0]}")
    command = [str(Path(sys.executable).with_name("storepipe")), *args]
    code, seconds, _ = watch(command, {**os.environ, **bench.env, **env}, folder / "log")
    if code != 0 or expect not in (folder / "log").read_text(errors="replace"):
        raise case_failed(f"cli_{args[0]}", code, folder / "log")
    return seconds


def backfill_overhead(bench: Bench) -> list[dict]:
    """A backfill of N windows x M orders with 1 and 2 workers: wall time and the time no task was running."""
    settings = bench.settings
    windows = backfill_data(
        bench, "bench-backfill", BACKFILL_START, settings.backfill_windows, settings.backfill_orders
    )
    return [backfill_run(bench, "bench-backfill", windows, settings.backfill_orders, workers) for workers in (1, 2)]


def fixed_cost(bench: Bench) -> dict:
    """The fixed cost of a window: a one-worker backfill of many windows that each move almost nothing."""
    settings = bench.settings
    windows = backfill_data(bench, "bench-small-windows", SMALL_START, settings.small_windows, settings.small_orders)
    return backfill_run(bench, "bench-small-windows", windows, settings.small_orders, 1)


def backfill_data(bench: Bench, bucket: str, start: dt.datetime, count: int, orders: int) -> list[Window]:
    """`count` consecutive windows from `start`, each with 20 new customers in the source and `orders` orders in
    `bucket`, untimed."""
    s3_client(bench.env).create_bucket(Bucket=bucket)
    windows = [Window(start, window_minutes())]
    while len(windows) < count:
        windows.append(windows[-1].next())
    began = time.perf_counter()
    for window in windows:
        datagen.generate(
            window,
            customers=20,
            orders=orders,
            seed=7,
            source_admin_url=bench.admin_url,
            s3_endpoint_url=bench.env["S3_ENDPOINT_URL"],
            bucket=bucket,
        )
    log.info("backfill data: %d windows x %s orders in %s (%.1f s)", len(windows), orders, bucket, _since(began))
    return windows


def backfill_run(bench: Bench, bucket: str, windows: list[Window], orders: int, workers: int) -> dict:
    """One backfill of `windows` from `bucket` into a fresh warehouse: its wall time, and how much of it some
    task was running (Luigi's PROCESSING_TIME events) and how much none was."""
    name, url = db.fresh(bench.admin_url, bench.warehouse_url, f"backfill_{workers}")
    lake = bench.folder("backfill_lake")
    db.quiesce(bench.admin_url)
    before = bench.cpu()
    try:
        result, _, _ = bench.child(
            "backfill",
            {
                "start": windows[0].label,
                "end": f"{windows[-1].end:%Y-%m-%dT%H:%M}",
                "workers": workers,
                "events": str(lake / "tasks.jsonl"),
            },
            {"WAREHOUSE_URL": url, "LAKE_URL": (lake / "lake").as_uri(), "ORDERS_BUCKET": bucket},
        )
        others = bench.others_since(before)
    finally:
        db.drop(bench.admin_url, name)
        shutil.rmtree(lake, ignore_errors=True)
    detail = result["detail"]
    busy = report.busy_seconds(tuple(i) for i in detail["intervals"])
    found = {
        "workers": workers,
        "windows": detail["windows"],
        "orders_per_window": orders,
        "rows": result["rows"],
        "wall": result["seconds"],
        "tasks": detail["tasks"],
        "task_seconds": detail["task_seconds"],
        "busy": busy,
        "outside_tasks": result["seconds"] - busy,
        "others": others,
    }
    log.info(
        "backfill %d windows x %d orders, %d worker(s): %.1f s wall (%.3f s a window), %.1f s with no task running",
        detail["windows"],
        orders,
        workers,
        result["seconds"],
        result["seconds"] / detail["windows"],
        result["seconds"] - busy,
    )
    return found


def capture_runs(bench: Bench) -> list[dict]:
    """The change capture (benchmarks/capture.py) at each size, repeats outermost, each against a fresh
    copy of the migrated warehouse so its ledger starts empty."""
    from benchmarks import capture

    found = []
    for repeat in range(bench.settings.capture_repeats):
        for changes in bench.settings.capture_sizes:
            name, url = db.fresh(bench.admin_url, bench.warehouse_url, f"capture_{changes}_{repeat}")
            db.quiesce(bench.admin_url)
            try:
                run = capture.measure({**bench.env, "WAREHOUSE_URL": url}, bench.work, changes, f"{changes}_{repeat}")
            finally:
                db.drop(bench.admin_url, name)
            found.append(run)
            log.info(
                "capture      %5s repeat %d: server %9s changes/s, capture %9s changes/s, ratio %.3f  %5.0f MB",
                report.rows_label(changes),
                repeat + 1,
                f"{run['server_changes_per_s']:,.0f}",
                f"{run['capture_changes_per_s']:,.0f}",
                run["ratio"],
                run["peak_mb"],
            )
    return found


def _since(began: float) -> float:
    return time.perf_counter() - began


# --- facts and the run -----------------------------------------------------------------------------------


def machine(bench: Bench, load_at_start: float) -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    commit = _git("rev-parse", "--short", "HEAD")
    if _git("status", "--porcelain", "--", "storepipe", "sql"):
        commit += " + uncommitted changes in storepipe/ or sql/"
    import luigi

    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores (nproc)": str(len(os.sched_getaffinity(0))),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "CPU": cpu,
        "PostgreSQL": f"{db.server_version(bench.warehouse_url)} (embedded, pgserver, Unix socket)",
        "Python": platform.python_version(),
        "Luigi": luigi.__version__,
        "commit": commit or "unknown",
        # anything else on the machine slows some repeats: medians absorb a little of it, not much
        "load average (1 min) at start / end": f"{load_at_start:.2f} / {os.getloadavg()[0]:.2f}",
        "others' CPU during the timed cases: median / worst run": report.others_text(bench.runs),
    }


def _git(*args: str) -> str:
    try:
        # bandit B603 B607: a fixed git command (no shell, no input), to stamp results with the commit
        found = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)  # nosec B603 B607
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return found.stdout.strip()


def main() -> int:
    try:
        return run()
    except StorepipeError as err:
        print(f"storepipe: {err.line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def run() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("storepipe", "botocore", "boto3", "urllib3", "luigi", "yoyo", "pgserver"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = Settings.from_env(dict(os.environ))
    load_at_start = os.getloadavg()[0]
    began = time.perf_counter()
    home = Path(tempfile.mkdtemp(prefix="storepipe-bench-"))
    try:
        env = stack.up(home / "stack", ports={"s3": 0, "risk_api": 0, "luigid": 0}, luigid=False)
        env = {**env, "STOREPIPE_HOME": str(home / "stack")}
        os.environ.update(env)  # for this process's own storepipe calls (datagen, sql)
        bench = Bench(settings, env, home / "work")
        bench.work.mkdir()
        log.info("stack up in %s (%.1f s)", home, _since(began))
        db.make_template(bench.admin_url, bench.warehouse_url, big_window().start)
        prepare_files(bench)
        prepare_lakes(bench)
        if "whole_window" in settings.cases:
            prepare_sources(bench)
        for case, rows, repeat in matrix(settings):
            bench.runs.append(run_case(bench, case, rows, repeat))
        captures = capture_runs(bench)
        noop = noop_overhead(bench) if settings.overhead else None
        ledger = ledger_overhead(bench) if settings.overhead else None
        fixed = fixed_cost(bench) if settings.overhead else None
        backfills = backfill_overhead(bench) if settings.overhead else []
        facts = machine(bench, load_at_start)
    finally:
        stack.down(home / "stack")
        shutil.rmtree(home, ignore_errors=True)
    elapsed = _since(began)
    write_outputs(
        settings,
        bench.runs,
        noop,
        backfills,
        facts,
        elapsed,
        {r: p.stat().st_size for r, p in bench.files.items()},
        captures,
        fixed,
        ledger,
    )
    log.info("done in %.0f s: %s", elapsed, settings.out / "results.md")
    return 0


def write_outputs(
    settings, runs, noop, backfills, facts, elapsed, file_sizes, captures=(), fixed=None, ledger=None
) -> None:
    from benchmarks import capture, plot

    settings.out.mkdir(parents=True, exist_ok=True)
    summaries = report.summarize(runs)
    peer = next((r.detail["dlt"] for r in runs if r.case == "dlt" and r.detail), None)
    if peer:
        facts = {**facts, "dlt (peer)": peer}
    capture_summaries = report.summarize_captures(captures)
    found = report.targets(
        summaries, noop, capture_summaries, limit=report.limits(runs), fixed=fixed, ledger=ledger, elapsed=elapsed
    )
    text = report.document(
        summaries=summaries,
        found=found,
        runs=runs,
        facts=facts,
        noop=noop,
        backfills=backfills,
        captures=capture_summaries,
        fixed=fixed,
        ledger=ledger,
        config={
            "sizes": settings.sizes,
            "repeats": settings.repeats,
            "original_max": settings.original_max,
            "dlt_max": settings.dlt_max,
            "backfill_windows": settings.backfill_windows,
            "backfill_orders": settings.backfill_orders,
            "file_sizes": file_sizes,
            "elapsed": elapsed,
            "rows_per_object": ROWS_PER_OBJECT,
            "capture_per_transaction": capture.PER_TRANSACTION,
        },
    )
    (settings.out / "results.md").write_text(text, encoding="utf-8")
    plot.plot(summaries, settings.out / "throughput.png", facts)
    raw = {
        "runs": [asdict(r) for r in runs],
        "noop": noop,
        "backfills": backfills,
        "fixed": fixed,
        "ledger": ledger,
        "captures": captures,
        "facts": facts,
    }
    data_dir = ROOT / "benchmarks" / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "runs.json").write_text(json.dumps(raw, indent=1, default=str))
    print(report.targets_table(found))


if __name__ == "__main__":
    sys.exit(main())
