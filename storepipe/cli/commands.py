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
    import os

    from storepipe.devstack import stack

    env = stack.up(config.home(), luigid=not args.no_luigid)
    print(f"storepipe stack is up; settings in {config.home() / config.ENV_FILE_NAME}")
    for name, value in env.items():
        if not name.startswith("AWS_"):
            print(f"  {name}={value}")
    os.environ.update(env)  # this process's settings are the stack it just started
    return _cdc_init(reset=False)


def cdc(args) -> int:
    return _cdc_init(reset=args.reset)


def _cdc_init(reset: bool) -> int:
    from storepipe.cli import render
    from storepipe.tasks import capture

    if config.customer_db().capture != "log":
        print("customers are extracted by query ([customer_db] capture = query): no change capture to initialize")
        return 0
    print(render.initialized(capture.init(reset=reset)))
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
        # the log capture first: the table's last line is the range's counts, which scripts read
        print(render.capture_line(window_status.capture_state()))
        print(render.status_table(window_status.status(windows)))
        return 0
    from storepipe.devstack import stack
    from storepipe.ops import status as window_status

    services = stack.status(config.home())
    print(render.stack_status(services))
    if all(state == "running" for name, state, _ in services if name == "postgres"):
        print(render.capture_line(window_status.capture_state()))
    return 0


def backfill(args) -> int:
    code = _backfill(args)
    if args.dry_run or not config.plan().auto_apply:
        return code
    # [plan] auto_apply: the cron line also rebuilds what another version of a model built
    from storepipe.ops import backfill

    windows = backfill.resolve_range(args.start, args.end, args.hours_back)
    return max(code, _apply_stale(windows, args))


def _backfill(args) -> int:
    from storepipe.cli import render
    from storepipe.ops import alerts, backfill, late
    from storepipe.warehouse import partitions

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
    upkeep = partitions.keep_bounded()
    if upkeep.changed:
        print(render.upkeep_line(upkeep), file=sys.stderr, flush=True)
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


def plan(args) -> int:
    from storepipe.cli import render
    from storepipe.ops import backfill
    from storepipe.ops import plan as version_plan

    for flag, value in (("--workers", args.workers), ("--windows-per-build", args.windows_per_build)):
        if value is not None and value < 1:
            raise StorepipeError(f"{flag} {value} is too small", "storepipe plan", "give 1 or more")
    windows = backfill.resolve_range(args.start, args.end, args.hours_back)
    found = version_plan.plan(windows, include_unknown=args.include_unknown)
    span = ["--start", windows[0].label, "--end", f"{windows[-1].end:%Y-%m-%dT%H:%M}"]
    print(render.version_plan(found, "rebuilt now" if args.apply else f"run `storepipe plan {' '.join(span)} --apply`"))
    if not args.apply or not found.todo():
        return 0
    return _apply_stale(windows, args, found)


def _apply_stale(windows, args, found=None) -> int:
    """Rebuild the stale windows of the range in small builds, with progress like a backfill's."""
    from storepipe.cli import render
    from storepipe.ops import backfill
    from storepipe.ops import plan as version_plan

    found = found or version_plan.plan(windows, include_unknown=getattr(args, "include_unknown", False))
    if not found.todo():
        return 0
    scheduler = None if args.local_scheduler else args.scheduler_url or config.setting("LUIGID_URL", "") or None
    if scheduler:
        backfill.require_scheduler(scheduler)
    print(f"plan --apply: rebuilding {len(found.todo())} stale windows", file=sys.stderr, flush=True)
    outcome = version_plan.apply(
        found,
        workers=args.workers,
        scheduler_url=scheduler,
        windows_per_build=args.windows_per_build,
        on_progress=lambda p: print(render.progress_line(p, "plan --apply", "written"), file=sys.stderr, flush=True),
        log_level="INFO" if args.verbose else "WARNING",
    )
    for line, to_stderr in render.applied(found, outcome):
        print(line, file=sys.stderr if to_stderr else sys.stdout)
    return 0 if outcome.ok else 1


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
    import psycopg2

    from storepipe.cli import render
    from storepipe.transform import materialize, models, versions
    from storepipe.warehouse import db, markers
    from storepipe.warehouse.markers import LOAD, TRANSFORM, marker_name

    if args.sql_command == "list":
        current = {name: version.fingerprint for name, version in versions.current().items()}
        try:
            on = markers.on_versions({n: current[n] for n in versions.versioned_markers()})
        except (StorepipeError, psycopg2.Error):
            on = {}  # the graph and the fingerprints need no warehouse; only the counts do
        rows = [
            (
                model.relation,
                model.strategy,
                _built_by(model),
                [*model.upstream, *(marker_name(LOAD, source) for source in model.loads)],
                current[marker_name(TRANSFORM, model.name)][:8],
                "-" if model.ephemeral else on.get(marker_name(TRANSFORM, model.name)),
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


def _built_by(model) -> str:
    if model.ephemeral:
        return "(inlined)"
    return "TransformModel" if model.layer == "staging" else "PublishMarts"


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
