"""The `storepipe` command: the embedded stack, migrations, source data, reports; one-line errors."""

from __future__ import annotations

import argparse
import logging
import sys

import psycopg2

from storepipe import config
from storepipe.errors import StorepipeError
from storepipe.window import Window

log = logging.getLogger("storepipe")


def _window(text: str) -> Window:
    return Window.parse(text, config.window().minutes)


def cmd_up(args) -> int:
    from storepipe.devstack import stack

    env = stack.up(config.home(), luigid=not args.no_luigid)
    print(f"storepipe stack is up; settings in {config.home() / config.ENV_FILE_NAME}")
    for name, value in env.items():
        if not name.startswith("AWS_"):
            print(f"  {name}={value}")
    return 0


def cmd_down(args) -> int:
    from storepipe.devstack import stack

    stopped = stack.down(config.home())
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def cmd_status(args) -> int:
    from storepipe.devstack import stack

    if args.start or args.end or args.hours_back is not None:
        from storepipe import backfill, progress

        windows = backfill.resolve_range(args.start, args.end, args.hours_back, closed=False)
        print(progress.status_table(backfill.status(windows)))
        return 0
    for service, state, where in stack.status(config.home()):
        print(f"  {service:<10} {state:<8} {where}")
    return 0


def cmd_backfill(args) -> int:
    from storepipe import backfill, progress

    counts = (("--workers", args.workers, 1), ("--task-limit", args.task_limit, 0))
    for flag, value, least in (*counts, ("--windows-per-build", args.windows_per_build, 1)):
        if value is not None and value < least:
            raise StorepipeError(f"{flag} {value} is too small", "storepipe backfill", f"give {least} or more")
    windows = backfill.resolve_range(args.start, args.end, args.hours_back)
    plan = backfill.plan(windows, force=args.force, reverse=args.reverse, task_limit=args.task_limit)
    span = f"{windows[0].label} .. {windows[-1].end:%Y-%m-%dT%H:%M}"
    if args.dry_run:
        print(progress.plan_table(plan))
        return 0
    if not plan.todo:
        print(f"backfill {span}: all {len(windows)} windows complete, nothing to do")
        return 0
    scheduler = None if args.local_scheduler else args.scheduler_url or config.setting("LUIGID_URL", "") or None
    if scheduler:
        backfill.require_scheduler(scheduler)
    print(
        f"backfill {span}: {len(plan.todo)} of {len(windows)} windows to run"
        f" with {args.workers} worker(s), {'luigid at ' + scheduler if scheduler else 'local scheduler'}",
        file=sys.stderr,
        flush=True,
    )
    outcome = backfill.run(
        plan,
        workers=args.workers,
        scheduler_url=scheduler,
        windows_per_build=args.windows_per_build,
        on_progress=lambda p: print(p.line(), file=sys.stderr, flush=True),
        log_level="INFO" if args.verbose else "WARNING",
    )
    print(progress.summary(outcome.builds), file=sys.stderr)
    done = outcome.progress
    print(f"backfill {span}: {done.done} of {done.total} windows done, {done.rows:,} rows loaded")
    for window in outcome.unfinished:
        print(f"  {window.label}  not complete yet (another worker may be running it); see `storepipe status`")
    if plan.held_back:
        print(f"  {plan.held_back} more windows are beyond the task limit; run the backfill again to go on")
    for start, why in sorted(outcome.failed.items()):
        print(f"storepipe: window {start:%Y-%m-%dT%H:%M} failed: {why}", file=sys.stderr)
    return 0 if outcome.ok else 1


def cmd_migrate(args) -> int:
    from storepipe.migrate import migrate

    targets = {"warehouse": "WAREHOUSE_URL", "source": "SOURCE_DB_ADMIN_URL"}
    for which in [args.which] if args.which != "all" else ["source", "warehouse"]:
        applied = migrate(config.setting(targets[which]), which)
        print(f"{which}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))
    return 0


def cmd_generate(args) -> int:
    from storepipe.devstack import datagen

    options = {
        "customers": args.customers,
        "orders": args.orders,
        "seed": args.seed,
        "source_admin_url": config.setting("SOURCE_DB_ADMIN_URL"),
        "s3_endpoint_url": config.setting("S3_ENDPOINT_URL"),
        "bucket": config.setting("ORDERS_BUCKET"),
    }
    if args.follow:
        datagen.follow(**options)
        return 0
    if args.window is None:
        raise StorepipeError("generate needs --window (or --follow)", "storepipe generate", "add --window W")
    window = _window(args.window)
    counts = datagen.generate(window, **options)
    print(f"generated window {window.label}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


def cmd_report(args) -> int:
    from storepipe import report
    from storepipe.tasks import RunWindow

    window = _window(args.window)
    task = RunWindow(window=window)
    print(report.render(report.window_report(window), report.visualiser_url(task.task_id)))
    return 0


def cmd_quarantine(args) -> int:
    from storepipe import quarantine

    window = _window(args.window)
    print(quarantine.render(quarantine.listing(window, source=args.source, limit=args.limit)))
    return 0


def cmd_sql(args) -> int:
    from storepipe import materialize, models, warehouse

    if args.sql_command == "list":
        for model in models.discover().values():
            upstream = ", ".join(list(model.upstream) + [f"load:{s}" for s in model.loads])
            task = "TransformModel" if model.layer == "staging" else "PublishMarts"
            print(f"{model.relation:<36} {model.strategy:<7} {task:<15} <- {upstream}")
        return 0
    model = models.get(args.model)
    window = _window(args.window)
    with warehouse.transaction() as cur:
        for statement in materialize.statements(cur, model, window):
            print(statement.strip() + ";\n")
    return 0


def cmd_checks(args) -> int:
    from storepipe import checks, warehouse

    window = _window(args.window)
    with warehouse.transaction() as cur:
        results = checks.window_results(cur, window)
    if not results:
        print(f"no checks recorded for window {window.label} (it has not been audited yet)")
        return 0
    print(f"checks of window {window.label}, audited {results[0][5]:%Y-%m-%d %H:%M:%S %Z}")
    print(f"  {'status':<6} {'severity':<8} {'rows':>6}  check")
    for name, severity, status, failing, sample, _ in results:
        print(f"  {status:<6} {severity:<8} {failing:>6}  {name}")
        for line in (sample or "").splitlines():
            print(f"  {'':<6} {'':<8} {'':>6}    {line[:150]}")
    return 1 if any(status == "fail" for _, _, status, *_ in results) else 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="storepipe", description=__doc__)
    top.add_argument("-v", "--verbose", action="store_true", help="log progress at INFO level")
    sub = top.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start the embedded stack (PostgreSQL, S3, risk API, luigid) on 127.0.0.1")
    up.add_argument("--no-luigid", action="store_true", help="do not start luigid")
    up.set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop what `up` started").set_defaults(func=cmd_down)
    status = sub.add_parser("status", help="what runs where; with a range, each window's state from its markers")
    status.add_argument("--start", help="first window of a range, e.g. 2024-01-01T10:00 (UTC)")
    status.add_argument("--end", help="end of the range, exclusive (default: now)")
    status.add_argument("--hours-back", type=int, help="the range: the last N hours")
    status.set_defaults(func=cmd_status)

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
    backfill.set_defaults(func=cmd_backfill)

    migrate = sub.add_parser("migrate", help="apply pending schema migrations (forward-only)")
    migrate.add_argument("--which", choices=["all", "source", "warehouse"], default="warehouse")
    migrate.set_defaults(func=cmd_migrate)

    generate = sub.add_parser("generate", help="write deterministic source data for a window")
    generate.add_argument("--window", help="window start, e.g. 2024-01-01T10:00 (UTC)")
    generate.add_argument("--customers", type=int, default=20, help="new customers in the window")
    generate.add_argument("--orders", type=int, default=200, help="orders in the window")
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--follow", action="store_true", help="keep generating for the current window")
    generate.set_defaults(func=cmd_generate)

    report = sub.add_parser("report", help="print what a window produced")
    report.add_argument("--window", required=True)
    report.set_defaults(func=cmd_report)

    quarantined = sub.add_parser("quarantine", help="list a window's quarantined rows: where, why, the raw text")
    quarantined.add_argument("--window", required=True)
    quarantined.add_argument("--source", choices=["customers", "orders", "risk_scores"], help="one source only")
    quarantined.add_argument("--limit", type=int, default=50, help="rows to show (0: all)")
    quarantined.set_defaults(func=cmd_quarantine)

    sql_cmd = sub.add_parser("sql", help="the transform models")
    sql_sub = sql_cmd.add_subparsers(dest="sql_command", required=True)
    sql_sub.add_parser("list", help="models in dependency order")
    show = sql_sub.add_parser("show", help="the SQL a model's task runs for a window")
    show.add_argument("model")
    show.add_argument("--window", required=True)
    sql_cmd.set_defaults(func=cmd_sql)

    checks = sub.add_parser("checks", help="the data check results of a window (exit 1 if one failed)")
    checks.add_argument("--window", required=True)
    checks.set_defaults(func=cmd_checks)
    return top


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
    except psycopg2.OperationalError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(
            f"storepipe: cannot reach PostgreSQL: {first}; run `storepipe up` or check the URLs",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
