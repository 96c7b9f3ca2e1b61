"""One small handler per `storepipe` command: parse its flags into values, call the layer below, print `render`."""

from __future__ import annotations

import sys

from storepipe import config
from storepipe.errors import StorepipeError
from storepipe.rows import SOURCES
from storepipe.window import Window

SOURCE_NAMES = list(SOURCES)


def _window(text: str) -> Window:
    return Window.parse(text, config.window().minutes)


def explain(err: Exception) -> StorepipeError | None:
    """A PostgreSQL error as the one line it means (unreachable, a timeout, a lock); None for anything else."""
    import psycopg2

    from storepipe.warehouse import db

    return db.explain(err) if isinstance(err, psycopg2.Error) else None


def up(args) -> int:
    from storepipe.devstack import stack

    env = stack.up(config.home(), luigid=not args.no_luigid)
    print(f"storepipe stack is up; settings in {config.home() / config.ENV_FILE_NAME}")
    for name, value in env.items():
        if not name.startswith("AWS_"):
            print(f"  {name}={value}")
    return 0


def down(args) -> int:
    from storepipe.devstack import stack

    stopped = stack.down(config.home())
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def status(args) -> int:
    from storepipe.cli import render

    if args.start or args.end or args.hours_back is not None:
        from storepipe.ops import backfill
        from storepipe.ops import status as window_status

        windows = backfill.resolve_range(args.start, args.end, args.hours_back, closed=False)
        print(render.status_table(window_status.status(windows)))
        return 0
    from storepipe.devstack import stack

    print(render.stack_status(stack.status(config.home())))
    return 0


def backfill(args) -> int:
    from storepipe.cli import render
    from storepipe.ops import alerts, backfill, late

    counts = (("--workers", args.workers, 1), ("--task-limit", args.task_limit, 0))
    for flag, value, least in (*counts, ("--windows-per-build", args.windows_per_build, 1)):
        if value is not None and value < least:
            raise StorepipeError(f"{flag} {value} is too small", "storepipe backfill", f"give {least} or more")
    windows = backfill.resolve_range(args.start, args.end, args.hours_back)
    plan = backfill.plan(windows, force=args.force, reverse=args.reverse, task_limit=args.task_limit)
    span = f"{windows[0].label} .. {windows[-1].end:%Y-%m-%dT%H:%M}"
    found = late.find()
    if args.dry_run:
        print(render.plan_table(plan))
        for line in late.describe(sorted(found.reopen), found):
            print(line.replace("re-opened", "would re-open"))
        return 0
    reopened = [w for w in late.record(found) if w.start not in {t.start for t in plan.todo}]
    if not plan.todo and not reopened:
        print(f"backfill {span}: all {len(windows)} windows complete, nothing to do")
        return 0
    scheduler = None if args.local_scheduler else args.scheduler_url or config.setting("LUIGID_URL", "") or None
    if scheduler:
        backfill.require_scheduler(scheduler)
    ok, failed = True, {}
    if reopened:
        for line in late.describe(reopened, found):
            print(line, file=sys.stderr, flush=True)
        rebuilt = backfill.run(
            backfill.plan(reopened, force=True, task_limit=0), workers=args.workers, scheduler_url=scheduler
        )
        for line, _ in render.backfill_outcome("of re-opened windows", rebuilt, 0):
            print(line, file=sys.stderr)
        ok, failed = rebuilt.ok, dict(rebuilt.failed)
        if not plan.todo:
            alerts.send_backfill_summary(span, failed)
            return 0 if ok else 1
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
        on_progress=lambda p: print(render.progress_line(p), file=sys.stderr, flush=True),
        log_level="INFO" if args.verbose else "WARNING",
    )
    print(render.summary(outcome.builds), file=sys.stderr)
    for line, to_stderr in render.backfill_outcome(span, outcome, plan.held_back):
        print(line, file=sys.stderr if to_stderr else sys.stdout)
    # one alert for the whole backfill (its builds' workers mail nothing), when a receiver is configured
    alerts.send_backfill_summary(span, {**failed, **outcome.failed})
    return 0 if outcome.ok and ok else 1


def migrate(args) -> int:
    from storepipe.warehouse.migrate import migrate

    targets = {"warehouse": "WAREHOUSE_URL", "source": "SOURCE_DB_ADMIN_URL"}
    for which in [args.which] if args.which != "all" else ["source", "warehouse"]:
        applied = migrate(config.setting(targets[which]), which)
        print(f"{which}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))
    return 0


def generate(args) -> int:
    from storepipe.simulator import datagen

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


def report(args) -> int:
    from storepipe.cli import render
    from storepipe.ops import report
    from storepipe.tasks import RunWindow

    window = _window(args.window)
    task = RunWindow(window=window)
    print(render.report(report.window_report(window), report.visualiser_url(task.task_id)))
    return 0


def quarantine(args) -> int:
    from storepipe.cli import render
    from storepipe.warehouse import quarantine

    window = _window(args.window)
    print(render.quarantine(quarantine.listing(window, source=args.source, limit=args.limit)))
    return 0


def sql(args) -> int:
    from storepipe.cli import render
    from storepipe.transform import materialize, models
    from storepipe.warehouse import db
    from storepipe.warehouse.markers import LOAD, marker_name

    if args.sql_command == "list":
        rows = [
            (
                model.relation,
                model.strategy,
                "TransformModel" if model.layer == "staging" else "PublishMarts",
                [*model.upstream, *(marker_name(LOAD, source) for source in model.loads)],
            )
            for model in models.discover().values()
        ]
        print(render.models(rows))
        return 0
    model = models.get(args.model)
    window = _window(args.window)
    with db.transaction() as cur:
        for statement in materialize.statements(cur, model, window):
            print(statement.strip() + ";\n")
    return 0


def checks(args) -> int:
    from storepipe.cli import render
    from storepipe.transform import checks
    from storepipe.warehouse import db

    window = _window(args.window)
    with db.transaction() as cur:
        results = checks.window_results(cur, window)
    print(render.checks(window, results))
    return 1 if any(status == "fail" for _, _, status, *_ in results) else 0


def _look_back(args) -> list[Window]:
    from storepipe.ops import backfill

    given = args.hours_back is not None or args.start or args.end
    return backfill.resolve_range(args.start, args.end, args.hours_back if given else 24, closed=False)


def metrics(args) -> int:
    from storepipe.cli import render
    from storepipe.ops import metrics

    registry = render.prometheus(metrics.collect(_look_back(args)))
    if args.textfile:
        from prometheus_client import write_to_textfile

        # a temporary file beside it, then a rename: node_exporter never reads half a file
        write_to_textfile(args.textfile, registry)
    else:
        print(render.prometheus_text(registry), end="")
    return 0


def _duration(text: str | None, flag: str):
    import luigi

    if text is None:
        return None
    try:
        return luigi.TimeDeltaParameter().parse(text)
    except luigi.parameter.ParameterException:
        what = f"{flag} {text!r} is not a duration"
        raise StorepipeError(what, "storepipe freshness", "write e.g. 15m, 1h or 90s") from None


def freshness(args) -> int:
    """Every error is UNKNOWN (3), as a monitoring plugin's must be: CRITICAL is for stale data only."""
    from storepipe.cli import render
    from storepipe.ops import freshness
    from storepipe.warehouse import failures

    try:
        max_lag, warn_lag = _duration(args.max_lag, "--max-lag"), _duration(args.warn_lag, "--warn-lag")
        verdict = freshness.check(_look_back(args), max_lag=max_lag, warn_lag=warn_lag)
    except Exception as err:  # a check that cannot look must say UNKNOWN, never exit 1 (WARNING) with a traceback
        print(render.freshness_unknown(failures.describe(err)))
        return freshness.UNKNOWN
    print(render.freshness(verdict))
    return verdict.code
