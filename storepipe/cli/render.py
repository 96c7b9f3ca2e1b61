"""Everything the `storepipe` command prints: progress, summaries, tables and reports, rendered from plain data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from luigi import execution_summary
from luigi.execution_summary import LuigiRunResult
from prometheus_client import generate_latest
from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily


def progress_line(progress, label: str = "backfill", rows: str = "loaded") -> str:
    """One line of a running backfill (or `plan --apply`): windows done, rows, time so far and left."""
    left = "" if progress.remaining_s is None else f", about {_clock(progress.remaining_s)} left"
    return (
        f"{label}: {progress.done}/{progress.total} windows done, {progress.rows:,} rows {rows}, "
        f"{_clock(progress.elapsed_s)} elapsed{left}"
    )


def _clock(seconds: float) -> str:
    return str(dt.timedelta(seconds=round(seconds)))


def summary(builds: Sequence[LuigiRunResult]) -> str:
    """Luigi's execution summary, over every build of the backfill at once."""
    if not builds:
        return ""
    # Luigi summarises one worker; merging the per-build task sets gives the whole backfill's
    merged: dict[str, set] = {}
    for build in builds:
        for status, tasks in execution_summary._summary_dict(build.worker).items():
            merged.setdefault(status, set()).update(tasks)
    last = builds[-1].worker
    return execution_summary._summary_wrap(execution_summary._summary_format(merged, last))


def plan_table(plan) -> str:
    """A dry run: the range, and each window that would run with why (missing, failed, or forced)."""
    windows, todo = plan.windows, plan.todo
    lines = [
        f"backfill {windows[0].label} .. {windows[-1].end:%Y-%m-%dT%H:%M} (UTC): {len(windows)} windows, "
        f"{plan.complete_count} complete, {len(todo)} to run"
        + (f", {plan.held_back} more beyond the task limit" if plan.held_back else "")
    ]
    for window in todo:
        if window.start in plan.failed:
            lines.append(f"  {window.label}  failed   {plan.failed[window.start]}")
        elif window.start not in plan.completeness.incomplete:
            lines.append(f"  {window.label}  forced")
        else:
            lines.append(f"  {window.label}  missing")
    return "\n".join(lines)


def status_table(status) -> str:
    """`storepipe status --start ... --end ...`: one line per window (per run of windows in one state,
    when the range is longer than a day), then the counts."""
    short = [name.split(":", 1)[1] for name in status.columns]
    width = [max(8, len(name)) for name in short]
    header = f"  {'window':<16}  {'state':<7}  {'markers':>7}  " + "  ".join(
        f"{name:>{w}}" for name, w in zip(short, width, strict=True)
    )
    lines = [header]
    runs = False
    for item in status.entries:
        if hasattr(item, "windows"):  # a run of windows in one state
            runs = True
            span = f"{item.windows.first:%Y-%m-%dT%H:%M} .. {item.windows.stop:%Y-%m-%dT%H:%M}"
            line = f"  {span}  {item.state:<7}  {len(item.windows)} windows"
        else:
            cells = "  ".join(
                f"{item.rows.get(name, '-')!s:>{w}}" for name, w in zip(status.columns, width, strict=True)
            )
            line = f"  {item.window.label:<16}  {item.state:<7}  {item.markers:>3}/{status.marker_total:<3}  {cells}"
        for note in (item.error, item.late, item.stale):
            if note:
                line += f"  {note}"
        lines.append(line.rstrip())
    lines.append(
        "rows: what each task wrote for the window, from its marker (the marts also rewrite the rows of"
        " other windows they re-point, e.g. the orders of a customer who changed)"
    )
    if runs:
        lines.append(
            "a range longer than a day shows each run of windows in one state as one line (first .. end,"
            " exclusive); a range of a day or less lists every window with its rows"
        )
    counts = status.counts
    lines.append(
        f"{status.windows} windows: "
        + ", ".join(f"{counts.get(state, 0)} {state}" for state in ("done", "failed", "missing", "open"))
        + (f"; {status.stale} built by another version of a model (see `storepipe plan`)" if status.stale else "")
    )
    return "\n".join(lines)


def report(report: dict, visualiser: str | None) -> str:
    """`storepipe report`: rows per source and stage, rows in the marts."""
    window = report["window"]
    lines = [f"storepipe window {window.label} .. {window.end:%Y-%m-%dT%H:%M} (UTC)", ""]
    lines.append(f"  {'source':<12} {'extracted':>10} {'loaded':>10} {'quarantined':>12} {'flagged':>8}")
    for source, stages in report["sources"].items():
        cells = [stages["extract"], stages["load"], stages["quarantined"] or 0, stages["flagged"] or 0]
        shown = ["-" if c is None else str(c) for c in cells]
        lines.append(f"  {source:<12} {shown[0]:>10} {shown[1]:>10} {shown[2]:>12} {shown[3]:>8}")
    lines.append("")
    for subject, rows in report["marts"].items():
        lines.append(f"  {subject:<46} {rows:>8}")
    if visualiser:
        lines += ["", f"  luigid visualiser: {visualiser}"]
    return "\n".join(lines)


def quarantine(found: dict) -> str:
    """A readable listing: one block per row, location first, then reason and the raw text."""
    window, counts, rows = found["window"], found["counts"], found["rows"]
    total = sum(counts.values())
    if not total:
        return f"storepipe quarantine: window {window.label} has no quarantined rows"
    summary = ", ".join(f"{src} {rows} {action}" for (src, action), rows in sorted(counts.items()))
    lines = [f"storepipe quarantine: window {window.label}: {summary}", ""]
    for src, action, location, reason, raw, when in rows:
        lines.append(f"{src:<12} {action:<9} {location}")
        lines.append(f"    why: {reason}")
        if raw:
            lines.append(f"    raw: {raw if len(raw) <= 200 else raw[:200] + '…'}".replace("\n", "\\n"))
        lines.append(f"    at:  {when:%Y-%m-%d %H:%M:%S %Z}".rstrip())
    if len(rows) < total:
        lines += ["", f"... {total - len(rows)} more (--limit 0 lists all)"]
    return "\n".join(lines)


def checks(window, results: list[tuple]) -> str:
    """`storepipe checks`: each check's status, severity, offending rows and samples."""
    if not results:
        return f"no checks recorded for window {window.label} (it has not been audited yet)"
    lines = [f"checks of window {window.label}, audited {results[0][5]:%Y-%m-%d %H:%M:%S %Z}"]
    lines.append(f"  {'status':<6} {'severity':<8} {'rows':>6}  check")
    for name, severity, status, failing, sample, _ in results:
        lines.append(f"  {status:<6} {severity:<8} {failing:>6}  {name}")
        for line in (sample or "").splitlines():
            lines.append(f"  {'':<6} {'':<8} {'':>6}    {line[:150]}")
    return "\n".join(lines)


def models(rows: list[tuple[str, str, str, list[str], str, int | str | None]]) -> str:
    """`storepipe sql list`: each model (relation, strategy, task, what it reads, its fingerprint and the
    windows built with it, `-` for an ephemeral model, which is built inside its readers), one line each."""
    lines = [
        f"{relation:<36} {strategy:<9} {task:<15} {fingerprint:<8} {'?' if windows is None else windows:>7}"
        f" <- {', '.join(reads)}"
        for relation, strategy, task, reads, fingerprint, windows in rows
    ]
    lines.append("fingerprint: the model's version (its SQL and its upstreams'); then the windows built with it")
    if any(row[-1] is None for row in rows):
        lines.append("(?: the warehouse did not answer, so the windows on each version are not counted)")
    return "\n".join(lines)


def version_plan(the_plan, apply_hint: str) -> str:
    """`storepipe plan`: per changed model, the windows it makes stale, its downstream, and its diff."""
    span = f"{the_plan.range_start:%Y-%m-%dT%H:%M} .. {the_plan.range_end:%Y-%m-%dT%H:%M}"
    todo = the_plan.todo()
    lines = [f"plan {span} (UTC): {the_plan.window_count:,} windows, {len(todo):,} to rebuild"]
    for change in the_plan.changes:
        name = _short(change.node)
        reached = change.kept if change.forward_only else change.stale
        own = reached.get(change.node)
        count = len(own) if own is not None else len(set().union(*reached.values())) if reached else 0
        downstream = ", ".join(f"{_short(m)} ({len(s):,})" for m, s in reached.items() if m != change.node)
        if change.forward_only:
            text = f"{name} changed (forward-only): {count:,} windows keep the version they were built with;"
            text += " new windows use it"
            text += f"; downstream kept too: {downstream}" if downstream else ""
        else:
            text = f"{name} changed: {count:,} windows stale" + (f"; downstream: {downstream}" if downstream else "")
        lines.append(text)
        lines.extend(f"    {line}" for line in change.diff)
    for marker, starts in sorted(the_plan.unknown.items()):
        verb = "rebuilt" if the_plan.include_unknown else "kept (--include-unknown rebuilds them)"
        lines.append(
            f"{_short(marker)}: {len(starts):,} windows of unknown version"
            f" (built before versions were recorded), {verb}"
        )
    if todo:
        tasks = sorted({_short(n) for _, names in todo for n in names})
        lines.append(f"rebuilding runs: {', '.join(tasks)} (no extract or load); {apply_hint}")
    else:
        lines.append("nothing to rebuild: every built window of the range is on the current version")
    return "\n".join(lines)


def _short(node: str) -> str:
    """`stg_customers` for `transform:stg_customers`, `check stg_customers__customer_id_unique`,
    `publish` (PublishMarts)."""
    step, _, name = node.partition(":")
    if step == "check":
        return f"check {name}"
    return name or "publish (PublishMarts)"


def applied(the_plan, outcome) -> list[tuple[str, bool]]:
    """`plan --apply`'s closing lines, each with whether it belongs on stderr."""
    done = outcome.progress
    lines = [(f"plan --apply: {done.done} of {outcome.total} windows rebuilt, {done.rows:,} rows written", False)]
    for start in outcome.still_stale:
        lines.append((f"  {start:%Y-%m-%dT%H:%M}  not rebuilt yet (another worker may be running it)", False))
    for start, why in sorted(outcome.failed.items()):
        lines.append((f"storepipe: window {start:%Y-%m-%dT%H:%M} failed: {why}", True))
    return lines


def stack_status(services) -> str:
    """`storepipe status` without a range: what runs where."""
    return "\n".join(f"  {service:<10} {state:<8} {where}" for service, state, where in services)


def capture_line(state) -> str:
    """The change capture's row of `storepipe status`: its slot, the WAL it holds, how far it landed."""
    if state.mode != "log":
        return (
            "  capture    query    customers by query ([customer_db] capture = query): superseded versions,"
            " deletes and late commits are not seen"
        )
    if state.state == "not initialized":
        return f"  capture    log      slot {state.slot} does not exist yet: run `storepipe cdc init`"
    if state.state == "lost":
        return f"  capture    lost     slot {state.slot} (max_slot_wal_keep_size): run `storepipe cdc init --reset`"
    if state.state != "streaming":
        return f"  capture    log      slot {state.slot}: {state.state}"
    landed = f"landed up to {state.landed_until:%Y-%m-%d %H:%M:%S} UTC" if state.landed_until else "no read yet"
    return f"  capture    log      slot {state.slot}: lag {_bytes(state.lag_bytes)} of WAL held, {landed}"


def _bytes(count: int | None) -> str:
    if count is None:
        return "?"
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} B"


def initialized(result) -> str:
    """`storepipe cdc init`: what the capture's history starts from."""
    where = f"slot {result.slot} at {result.position}, lag {_bytes(result.lag_bytes)}"
    if result.snapshot_rows is None:
        return f"change capture is initialized already ({where}); nothing to do"
    start = "a new history" if result.reset else "the history"
    return f"change capture: {start} starts with a snapshot of {result.snapshot_rows:,} customers ({where})"


def backfill_outcome(span: str, outcome, held_back: int) -> list[tuple[str, bool]]:
    """A finished backfill's closing lines, each with whether it belongs on stderr."""
    done = outcome.progress
    lines = [(f"backfill {span}: {done.done} of {done.total} windows done, {done.rows:,} rows loaded", False)]
    for window in outcome.unfinished:
        note = "not complete yet (another worker may be running it); see `storepipe status`"
        lines.append((f"  {window.label}  {note}", False))
    if held_back:
        lines.append((f"  {held_back} more windows are beyond the task limit; run the backfill again to go on", False))
    for start, why in sorted(outcome.failed.items()):
        lines.append((f"storepipe: window {start:%Y-%m-%dT%H:%M} failed: {why}", True))
    return lines


def upkeep_line(upkeep) -> str:
    """One line for what the cron path did to keep partitions bounded."""
    parts = []
    for parent, count in upkeep.partitions.items():
        done = []
        if upkeep.rolled_up.get(parent):
            done.append(f"{len(upkeep.rolled_up[parent])} day(s) rolled up")
        if upkeep.dropped.get(parent):
            done.append(f"{len(upkeep.dropped[parent])} day(s) dropped")
        parts.append(f"{parent}: {', '.join(done) or 'unchanged'}, {count} partitions")
    if upkeep.postponed:
        parts.append(f"{len(upkeep.postponed)} day(s) postponed to the next run (locks busy)")
    deleted = sum(upkeep.deleted_rows.values())
    if deleted:
        parts.append(f"{deleted} rows past retention deleted from {', '.join(upkeep.deleted_rows)}")
    return "partitions: " + "; ".join(parts)


def prometheus(samples):
    """A prometheus_client registry holding `storepipe metrics`' samples, one family per name."""
    families: dict[str, object] = {}
    for sample in samples:
        family = families.get(sample.name)
        if family is None:
            kind = CounterMetricFamily if sample.kind == "counter" else GaugeMetricFamily
            family = families[sample.name] = kind(sample.name, sample.help, labels=list(sample.labels))
        family.add_metric(list(sample.labels.values()), sample.value)

    class _Collected:
        def collect(self):
            return iter(families.values())

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collected())
    return registry


def prometheus_text(registry) -> str:
    return generate_latest(registry).decode()


def _span(delta: dt.timedelta) -> str:
    """`7m`, `2h05m`, `3d04h`: a lag as people say it."""
    seconds = int(delta.total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d{hours:02d}h"
    if hours:
        return f"{sign}{hours}h{minutes:02d}m"
    return f"{sign}{minutes}m" if minutes else f"{sign}{secs}s"


def freshness(verdict) -> str:
    """`storepipe freshness`: the verdict, the newest published window, the look-back's counts, perfdata."""
    limits = f"max {_span(verdict.max_lag)}" + (f", warn {_span(verdict.warn_lag)}" if verdict.warn_lag else "")
    if verdict.newest is None:
        newest = f"no window published yet ({limits})"
    else:
        newest = f"newest published window {verdict.newest.label} ended {_span(verdict.lag)} ago ({limits})"
    counts = f"{verdict.failed} failed, {verdict.missing} missing of {verdict.windows} windows in the look-back"
    if verdict.stale:
        counts += f", {verdict.stale} built by another version of a model (storepipe plan)"
    # after `|`: performance data, which Nagios-style monitors graph
    perfdata = f"failed={verdict.failed} missing={verdict.missing} stale={verdict.stale}"
    if verdict.lag is not None:
        perfdata = f"lag_seconds={int(verdict.lag.total_seconds())} {perfdata}"
    return f"FRESHNESS {verdict.state} - {newest}; {counts} | {perfdata}"


def freshness_unknown(why: str) -> str:
    return f"FRESHNESS UNKNOWN - {why}"
