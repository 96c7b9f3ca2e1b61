"""One benchmark case in a process of its own: `python -m benchmarks.child CASE ARGS_JSON RESULT_PATH`.

Each case does its untimed setup, times only its work, checks what it loaded, and writes
{"seconds", "rows", "vmhwm_mb", "detail"} to RESULT_PATH. Settings (WAREHOUSE_URL, LAKE_URL, ...)
come from the environment the driver gives it.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path

log = logging.getLogger(__name__)

DLT_PAGE = 10_000  # dlt's advice: yield pages of rows, not single rows


class CaseFailed(Exception):
    """The case ran but did not do its job; the benchmark stops rather than report its time."""


def vmhwm_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB; unlike ru_maxrss it is not inherited from the parent."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _window(text: str):
    from storepipe.window import Window, window_minutes

    return Window.parse(text, window_minutes())


def _record_task_times(path: Path) -> None:
    """Append (task, end, seconds) per finished task to `path`; it works from forked workers too."""
    import luigi

    @luigi.Task.event_handler(luigi.Event.PROCESSING_TIME)
    def on_processing_time(task, seconds):
        name = task.task_family + (f"[{task.model}]" if hasattr(task, "model") else "")
        line = json.dumps({"task": name, "end": time.time(), "seconds": seconds}) + "\n"
        with open(path, "a", encoding="utf-8") as out:
            out.write(line)


def _task_times(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _build(tasks, workers: int = 1):
    import luigi
    from luigi.execution_summary import LuigiStatusCode

    luigi.task_register.Register.clear_instance_cache()
    result = luigi.build(tasks, local_scheduler=True, workers=workers, detailed_summary=True, log_level="WARNING")
    if result.status not in (LuigiStatusCode.SUCCESS, LuigiStatusCode.SUCCESS_WITH_RETRY):
        raise CaseFailed(f"luigi ended {result.status.name}: {result.summary_text}")
    return result


def _require_rows(found: int, wanted: int, where: str) -> None:
    if found != wanted:
        raise CaseFailed(f"{where} holds {found} rows, expected {wanted}")


# --- the cases -------------------------------------------------------------------------------------


def load_orders(args: dict) -> dict:
    """storepipe's LoadOrders for a window whose lake copy is the file; timed from task start to commit."""
    from storepipe.lake import landing
    from storepipe.tasks import ExtractOrders, LoadOrders
    from storepipe.warehouse import db

    window = _window(args["window"])
    extract = ExtractOrders(window=window)
    # what ExtractOrders would have recorded: the Load's requirement is then complete
    with db.transaction() as cur:
        extract.output().touch(cur, args["rows"], args["checksum"], landing.keys("orders", window)[0])
    events = Path(args["events"])
    _record_task_times(events)
    _build([LoadOrders(window=window)])
    times = [t for t in _task_times(events) if t["task"] == "LoadOrders"]
    marker = LoadOrders(window=window).output().read()
    _require_rows(marker["row_count"] if marker else 0, args["rows"], "load:orders")
    return {"seconds": times[-1]["seconds"], "rows": args["rows"]}


def whole_window(args: dict) -> dict:
    """RunWindow for a window whose orders sit in the orders bucket: extract, load, staging, publish + checks."""
    from storepipe.tasks import LoadOrders, RunWindow

    window = _window(args["window"])
    events = Path(args["events"])
    _record_task_times(events)
    began = time.perf_counter()
    _build([RunWindow(window=window)])
    seconds = time.perf_counter() - began
    marker = LoadOrders(window=window).output().read()
    _require_rows(marker["row_count"] if marker else 0, args["rows"], "load:orders")
    steps: dict[str, float] = {}
    for t in _task_times(events):
        steps[t["task"]] = steps.get(t["task"], 0.0) + t["seconds"]
    return {"seconds": seconds, "rows": args["rows"], "detail": {"tasks": steps}}


def original_way(args: dict) -> dict:
    """The original project's load: the whole file as a list of dicts, then execute_batch INSERTs."""
    import psycopg2
    import psycopg2.extras

    from benchmarks import db

    statement = db.load("original_insert")  # window_start: the table's default, as in raw_copy
    began = time.perf_counter()
    with open(args["csv"], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    conn = psycopg2.connect(args["url"])
    try:
        with conn, conn.cursor() as cur:
            psycopg2.extras.execute_batch(cur, statement, rows)
    finally:
        conn.close()
    seconds = time.perf_counter() - began
    loaded = db.count_window(args["url"], "bench", "original_orders", args["window_start"])
    _require_rows(loaded, args["rows"], "bench.original_orders")
    return {"seconds": seconds, "rows": args["rows"]}


def dlt_peer(args: dict) -> dict:
    """dlt's postgres destination with its csv (COPY) loader, rows read with csv.DictReader in pages."""
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"  # no calls home from a benchmark
    import dlt

    from benchmarks import db

    columns = {
        "order_id": {"data_type": "text", "nullable": False},
        "customer_id": {"data_type": "bigint", "nullable": False},
        "item_id": {"data_type": "text", "nullable": False},
        "item_name": {"data_type": "text", "nullable": False},
        "delivered_on": {"data_type": "timestamp", "nullable": False},
    }

    @dlt.resource(name="orders", write_disposition="append", columns=columns)
    def orders():
        with open(args["csv"], newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            while page := list(itertools.islice(reader, DLT_PAGE)):
                yield page

    pipeline = dlt.pipeline(
        pipeline_name="bench_dlt",
        # dlt requires a host name; libpq lets the URL's ?host=<socket dir> override it
        destination=dlt.destinations.postgres(credentials=args["url"].replace("@/", "@localhost/", 1)),
        dataset_name="bench_dlt",
        pipelines_dir=args["pipelines_dir"],
    )
    began = time.perf_counter()
    pipeline.run(orders(), loader_file_format="csv")
    seconds = time.perf_counter() - began
    _require_rows(db.count_all(args["url"], "bench_dlt", "orders"), args["rows"], "bench_dlt.orders")
    return {"seconds": seconds, "rows": args["rows"], "detail": {"dlt": dlt.__version__}}


def seed_complete(args: dict) -> dict:
    """Setup, untimed: the markers a finished range leaves for each window (the transforms' and publish's on
    the current versions), in one statement (a year is over a million)."""
    from benchmarks import db as bench_db
    from storepipe.ops import backfill
    from storepipe.tasks import RunWindow, completeness
    from storepipe.transform import versions
    from storepipe.warehouse import db

    windows = backfill.resolve_range(args["start"], args["end"])
    current, versioned = versions.current(), set(versions.versioned_markers())
    # the tree's markers, plus the marts' own (PublishMarts writes them beside `publish`): 12 a window, as a run leaves
    names = sorted({name for family in completeness.families(RunWindow) for name in family.marker_names()} | versioned)
    with db.transaction() as cur:
        cur.execute(
            bench_db.load("seed_markers"),
            {
                "task_names": names,
                "versions": [current[name].fingerprint if name in versioned else None for name in names],
                "first": windows[0].start,
                "last": windows[-1].start,
            },
        )
    with db.transaction() as cur:
        cur.execute(bench_db.load("analyze_markers"))
    return {"seconds": 0.0, "rows": len(windows) * len(names), "detail": {"markers_per_window": len(names)}}


def plan(args: dict) -> dict:
    """`storepipe plan`'s work over complete windows, timed in-process (imports and the range's
    Window objects excluded): its column check and its one query for every versioned marker."""
    from storepipe.ops import backfill
    from storepipe.ops import plan as version_plan

    windows = backfill.resolve_range(args["start"], args["end"])
    began = time.perf_counter()
    found = version_plan.plan(windows)
    seconds = time.perf_counter() - began
    if found.todo():
        raise CaseFailed(f"plan found {len(found.todo())} stale windows in a range seeded on the current versions")
    return {"seconds": seconds, "rows": 0}


def noop(args: dict) -> dict:
    """`storepipe backfill --local-scheduler` over complete windows, timed in-process (imports excluded)."""
    from storepipe.cli import main

    out = io.StringIO()
    began = time.perf_counter()
    with redirect_stdout(out):
        code = main(["backfill", "--start", args["start"], "--end", args["end"], "--local-scheduler"])
    seconds = time.perf_counter() - began
    if code != 0 or "nothing to do" not in out.getvalue():
        raise CaseFailed(f"the no-op backfill exited {code}: {out.getvalue().strip()}")
    return {"seconds": seconds, "rows": 0}


def backfill_run(args: dict) -> dict:
    """A backfill of many small windows (plan + builds of [backfill] windows_per_build), with N workers."""
    from storepipe.ops import backfill

    events = Path(args["events"])
    _record_task_times(events)
    windows = backfill.resolve_range(args["start"], args["end"])
    began = time.time()
    outcome = backfill.run(backfill.plan(windows, task_limit=0), workers=args["workers"])
    ended = time.time()
    if not outcome.ok or outcome.unfinished:
        raise CaseFailed(f"backfill left {len(outcome.failed)} failed, {len(outcome.unfinished)} unfinished windows")
    times = _task_times(events)
    return {
        "seconds": ended - began,
        "rows": outcome.progress.rows,
        "detail": {
            "windows": len(windows),
            "tasks": len(times),
            "task_seconds": sum(t["seconds"] for t in times),
            "intervals": [(t["end"] - t["seconds"], t["end"]) for t in times],
            "build_seconds": outcome.build_seconds,
            "started": began,
        },
    }


CASES: dict[str, Callable[[dict], dict]] = {
    "load_orders": load_orders,
    "whole_window": whole_window,
    "original_way": original_way,
    "dlt": dlt_peer,
    "seed_complete": seed_complete,
    "noop": noop,
    "plan": plan,
    "backfill": backfill_run,
}


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    case, args, result_path = argv[1], json.loads(argv[2]), Path(argv[3])
    try:
        result = CASES[case](args)
    except CaseFailed as err:
        print(f"benchmark case {case}: {err}", file=sys.stderr)
        return 3
    result["vmhwm_mb"] = vmhwm_mb()
    result_path.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
