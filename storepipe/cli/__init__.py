"""The `storepipe` command: the parser and `main`; one small handler per command in `commands`, all output in `render`.

Modules are imported inside the handlers, so `storepipe --help` and the dev-stack commands start fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from storepipe.cli import commands
from storepipe.errors import StorepipeError


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="storepipe", description="The embedded stack, migrations, source data, backfills and reports."
    )
    top.add_argument("-v", "--verbose", action="store_true", help="log progress at INFO level")
    sub = top.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start the embedded stack (PostgreSQL, S3, risk API, luigid) on 127.0.0.1")
    up.add_argument("--no-luigid", action="store_true", help="do not start luigid")
    up.set_defaults(func=commands.up)
    sub.add_parser("down", help="stop what `up` started").set_defaults(func=commands.down)
    status = sub.add_parser("status", help="what runs where; with a range, each window's state from its markers")
    status.add_argument("--start", help="first window of a range, e.g. 2024-01-01T10:00 (UTC)")
    status.add_argument("--end", help="end of the range, exclusive (default: now)")
    status.add_argument("--hours-back", type=int, help="the range: the last N hours")
    status.set_defaults(func=commands.status)

    cdc = sub.add_parser("cdc", help="the customer change capture (replication slot and initial snapshot)")
    cdc_sub = cdc.add_subparsers(dest="cdc_command", required=True)
    cdc_init = cdc_sub.add_parser(
        "init", help="check the source, create the slot and land its consistent snapshot, once (run by `up`)"
    )
    cdc_init.add_argument(
        "--reset",
        action="store_true",
        help="after a lost slot or a TRUNCATE: drop the slot and start a new history from a new snapshot",
    )
    cdc.set_defaults(func=commands.cdc)

    backfill = sub.add_parser("backfill", help="run every incomplete window of a range, in small Luigi builds")
    span = backfill.add_mutually_exclusive_group(required=True)
    span.add_argument("--start", help="first window, e.g. 2024-01-01T10:00 (UTC)")
    span.add_argument("--hours-back", type=int, help="every closed window of the last N hours (for cron)")
    backfill.add_argument("--end", help="end of the range, exclusive (default: the newest closed window's end)")
    backfill.add_argument("--workers", type=int, default=1, help="Luigi worker processes")
    backfill.add_argument("--reverse", action="store_true", help="newest windows first")
    backfill.add_argument("--force", action="store_true", help="re-run complete windows too (their rows are replaced)")
    backfill.add_argument("--dry-run", action="store_true", help="list the missing and failed windows; run nothing")
    backfill.add_argument("--task-limit", type=int, help="most windows to run now (default [backfill] task_limit)")
    backfill.add_argument("--windows-per-build", type=int, help="windows per Luigi build ([backfill])")
    backfill.add_argument("--scheduler-url", help="luigid to use (default: LUIGID_URL, else a local scheduler)")
    backfill.add_argument("--local-scheduler", action="store_true", help="use no luigid")
    backfill.set_defaults(func=commands.backfill)

    version_plan = sub.add_parser(
        "plan", help="the windows of a range built by another version of a model; --apply rebuilds them"
    )
    span = version_plan.add_mutually_exclusive_group(required=True)
    span.add_argument("--start", help="first window, e.g. 2024-01-01T10:00 (UTC)")
    span.add_argument("--hours-back", type=int, help="every closed window of the last N hours")
    version_plan.add_argument("--end", help="end of the range, exclusive (default: the newest closed window's end)")
    version_plan.add_argument("--apply", action="store_true", help="rebuild the stale windows (no extract or load)")
    version_plan.add_argument(
        "--include-unknown", action="store_true", help="also rebuild windows built before versions were recorded"
    )
    version_plan.add_argument("--workers", type=int, default=1, help="Luigi worker processes")
    version_plan.add_argument("--windows-per-build", type=int, help="windows per Luigi build ([backfill])")
    version_plan.add_argument("--scheduler-url", help="luigid to use (default: LUIGID_URL, else a local scheduler)")
    version_plan.add_argument("--local-scheduler", action="store_true", help="use no luigid")
    version_plan.set_defaults(func=commands.plan)

    migrate = sub.add_parser("migrate", help="apply pending schema migrations (forward-only)")
    migrate.add_argument("--which", choices=["all", "source", "warehouse"], default="warehouse")
    migrate.set_defaults(func=commands.migrate)

    generate = sub.add_parser("generate", help="write deterministic source data for a window (the simulator)")
    generate.add_argument("--window", help="window start, e.g. 2024-01-01T10:00 (UTC)")
    generate.add_argument("--customers", type=int, default=20, help="new customers in the window")
    generate.add_argument("--orders", type=int, default=200, help="orders in the window")
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--follow", action="store_true", help="keep generating for the current window")
    generate.set_defaults(func=commands.generate)

    report = sub.add_parser("report", help="print what a window produced")
    report.add_argument("--window", required=True)
    report.set_defaults(func=commands.report)

    quarantined = sub.add_parser("quarantine", help="list a window's quarantined rows: where, why, the raw text")
    quarantined.add_argument("--window", required=True)
    quarantined.add_argument("--source", choices=commands.SOURCE_NAMES, help="one source only")
    quarantined.add_argument("--limit", type=int, default=50, help="rows to show (0: all)")
    quarantined.set_defaults(func=commands.quarantine)

    sql_cmd = sub.add_parser("sql", help="the transform models")
    sql_sub = sql_cmd.add_subparsers(dest="sql_command", required=True)
    sql_sub.add_parser("list", help="models in dependency order")
    show = sql_sub.add_parser("show", help="the SQL a model's task runs for a window")
    show.add_argument("model")
    show.add_argument("--window", required=True)
    sql_cmd.set_defaults(func=commands.sql)

    checks = sub.add_parser("checks", help="the data check results of a window (exit 1 if one failed)")
    checks.add_argument("--window", required=True)
    checks.set_defaults(func=commands.checks)

    metrics = sub.add_parser("metrics", help="storepipe's own metrics in Prometheus' text format")
    _look_back(metrics)
    metrics.add_argument("--textfile", help="write them to this file, atomically (node_exporter's textfile collector)")
    metrics.set_defaults(func=commands.metrics)

    freshness = sub.add_parser(
        "freshness", help="is the newest published window recent? one line; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN"
    )
    freshness.add_argument("--max-lag", required=True, help="CRITICAL past this, e.g. 15m (from the window's end)")
    freshness.add_argument("--warn-lag", help="WARNING past this, e.g. 10m")
    _look_back(freshness)
    freshness.set_defaults(func=commands.freshness)
    return top


def _look_back(command: argparse.ArgumentParser) -> None:
    """The range in which failed and missing windows are counted: the last day unless told."""
    command.add_argument("--hours-back", type=int, help="the last N hours (default 24)")
    command.add_argument("--start", help="or from this window, e.g. 2024-01-01T10:00 (UTC)")
    command.add_argument("--end", help="to this one, exclusive (default: now)")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(name)s %(message)s"
    )
    try:
        return args.func(args)
    except StorepipeError as err:
        print(f"storepipe: {err.line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`storepipe sql list | head`): stop quietly, as other Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as err:
        explained = commands.explain(err)
        if explained is None:
            raise
        print(f"storepipe: {explained.line()}", file=sys.stderr)
        return 2
