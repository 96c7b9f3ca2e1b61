"""Pure helpers of the benchmark: medians, ratios to raw COPY, the targets' verdicts, Markdown tables."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# the cases, in the order the tables list them; the keys are what runs and results are filed under
CASES = {
    "raw_copy": "raw `psql \\copy` (client COPY)",
    "server_copy": "server-side `COPY ... FROM 'file'` (no client)",
    "floor": "hand-written floor (`psql`: COPY + one dedupe/join `INSERT` into a fct_orders-shaped table)",
    "load_orders": "storepipe `LoadOrders` (lake file → store.orders)",
    "whole_window": "storepipe `RunWindow` (bucket → marts + checks)",
    "original_way": "original project (list of dicts → `execute_batch`)",
    "dlt": "dlt, postgres destination, csv (COPY) loader",
}
# the true COPY limit at a size: the faster of these two (by median) is that size's 1.00 (issue 18);
# `psql \copy` alone is a client that parses and sends the file, and was beaten by a Python loader
LIMIT_CASES = ("raw_copy", "server_copy")
LIMIT_NAMES = {"raw_copy": "`psql \\copy`", "server_copy": "server-side `COPY`"}
FLOOR = "floor"
FLOOR_CASES = ("floor", "whole_window")  # the cases that build a window's facts, which the floor is the anchor of
WORKER_CASES = ("load_orders", "whole_window")  # the storepipe worker processes the memory target is about

# the issue's targets (issue 7)
LOAD_RATIO = 0.8
WINDOW_RATIO = 0.5
RATIO_SIZES = (1_000_000, 5_000_000)
MEMORY_MB = 150.0
HEADROOM_ROWS = 5_000_000
HEADROOM_S = 60.0  # 0.2 of a 5-minute window
BASELINE_SPEEDUP = 10.0  # "many times faster": an order of magnitude (shared/perf-anchors.md)
NOOP_RATIO = 2.0

# issue 13's targets for the change capture, slot to lake
CAPTURE_RATIO = 0.1  # of the server's own pgoutput decoding rate, measured in the same run
CAPTURE_MEMORY_MB = 100.0
FLAT_GROWTH = 1.25  # "flat": the peak at the largest size over the peak at the smallest

# issue 18's targets: the whole window against the hand-written floor, a cheap window, a fast ledger
FLOOR_RATIO = 0.8  # RunWindow's throughput over the floor's
LIMIT_RATIO = 0.9  # LoadOrders over the true COPY limit
LOAD_MEMORY_MB = 100.0
SMALL_WINDOW_ROWS = 100_000  # a small window in a backfill costs no more than a raw COPY of this many orders
FAST_HEADROOM_S = 30.0  # one 5M window end to end: 0.1 of a 5-minute window
LEDGER_S = 2.0  # a year of complete windows checked in at most this
LEDGER_RATIO = 3.0  # and at most this many times one window's check
BENCH_MINUTES = 20.0  # the whole `make bench`

# a run during which others used more of the machine than this ran on a busy machine: it is slower than the
# machine is (the benchmark's own CPU is subtracted, so a quiet machine reads a few percent at most)
BUSY_SHARE = 0.10


@dataclass(frozen=True)
class Run:
    """One timed run of a case in its own process."""

    case: str
    rows: int
    repeat: int
    seconds: float
    rss_mb: float
    detail: dict | None = None
    others: float | None = None  # the share of the machine others used meanwhile (benchmarks.cpu)


@dataclass(frozen=True)
class Summary:
    """A case at one size: medians over its repeats, its ratio to the same run's raw COPY."""

    case: str
    rows: int
    repeats: int
    seconds: float
    rows_per_s: float
    ratio: float | None
    rss_mb: float
    low: float = 0.0  # the fastest repeat's seconds
    high: float = 0.0  # the slowest repeat's seconds
    floor_ratio: float | None = None  # the floor's seconds over the case's (a case that builds a window's facts)
    others: float | None = None  # the worst repeat's share of the machine others used meanwhile


@dataclass(frozen=True)
class CaptureSummary:
    """The change capture at one number of changes: medians over its repeats, the worst peak memory."""

    changes: int
    repeats: int
    server_changes_per_s: float
    capture_changes_per_s: float
    ratio: float  # the median of each repeat's own ratio: both rates of a ratio come from one run
    peak_mb: float


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    measured: str
    verdict: str  # PASS, FAIL, or "not measured"
    issue: int = 7  # the issue that set it


def median(values: Iterable[float]) -> float:
    """The median; raises ValueError on no values, so a missing case is never a zero."""
    found = list(values)
    if not found:
        raise ValueError("median of no values")
    return statistics.median(found)


def ratio(baseline_s: float, case_s: float) -> float:
    """The limit's seconds over the case's seconds: 1.0 is the limit, higher is faster."""
    if case_s <= 0:
        raise ValueError(f"a case took {case_s} s")
    return baseline_s / case_s


def limits(runs: Sequence[Run]) -> dict[int, tuple[str, float]]:
    """Per size, the true COPY limit: the LIMIT_CASES case with the lowest median there, (case, median s)."""
    found: dict[int, tuple[str, float]] = {}
    for case in LIMIT_CASES:
        for rows in sorted({r.rows for r in runs if r.case == case}):
            seconds = median(r.seconds for r in runs if r.case == case and r.rows == rows)
            if rows not in found or seconds < found[rows][1]:
                found[rows] = (case, seconds)
    return found


def summarize(runs: Sequence[Run]) -> list[Summary]:
    """One Summary per (case, rows), in CASES order then by size; peak RSS is the worst repeat.

    The ratio is to the same size's true COPY limit (`limits`); the floor ratio, for FLOOR_CASES, to the
    same size's floor."""
    groups: dict[tuple[str, int], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.case, run.rows), []).append(run)
    limit = limits(runs)
    order = list(CASES)
    summaries = []
    for (case, rows), found in sorted(groups.items(), key=lambda kv: (_rank(order, kv[0][0]), kv[0][1])):
        seconds = median(r.seconds for r in found)
        floor = groups.get((FLOOR, rows))
        summaries.append(
            Summary(
                case=case,
                rows=rows,
                repeats=len(found),
                seconds=seconds,
                rows_per_s=rows / seconds,
                ratio=ratio(limit[rows][1], seconds) if rows in limit else None,
                rss_mb=max(r.rss_mb for r in found),
                low=min(r.seconds for r in found),
                high=max(r.seconds for r in found),
                floor_ratio=ratio(median(r.seconds for r in floor), seconds) if floor and case in FLOOR_CASES else None,
                others=max((r.others for r in found if r.others is not None), default=None),
            )
        )
    return summaries


def _rank(order: list[str], case: str) -> int:
    return order.index(case) if case in order else len(order)


def find(summaries: Sequence[Summary], case: str, rows: int) -> Summary | None:
    return next((s for s in summaries if s.case == case and s.rows == rows), None)


def targets(
    summaries: Sequence[Summary],
    noop: dict | None = None,
    captures: Sequence[CaptureSummary] = (),
    *,
    limit: dict[int, tuple[str, float]] | None = None,
    fixed: dict | None = None,
    ledger: dict | None = None,
    elapsed: float | None = None,
) -> list[Target]:
    """The issues' targets against what was measured; a size that was not run is "not measured", never a pass."""
    found = []
    for case, goal in (("load_orders", LOAD_RATIO), ("whole_window", WINDOW_RATIO)):
        for rows in RATIO_SIZES:
            s = find(summaries, case, rows)
            found.append(
                _verdict(
                    f"throughput: {case} at {rows_label(rows)}",
                    f"≥ {goal:.2f}x the COPY limit",
                    s and s.ratio,
                    lambda value, goal=goal: value >= goal,
                    "{:.2f}x",
                )
            )
    for case in WORKER_CASES:
        sizes = sorted(s.rows for s in summaries if s.case == case)
        worst = max((s.rss_mb for s in summaries if s.case == case), default=None)
        found.append(
            _verdict(
                f"memory: {case} peak RSS at {', '.join(rows_label(r) for r in sizes) or 'no size'}",
                f"≤ {MEMORY_MB:.0f} MB at every size",
                worst,
                lambda value: value <= MEMORY_MB,
                "{:.0f} MB (worst)",
            )
        )
    found.extend(_baseline_targets(summaries))
    headroom = find(summaries, "whole_window", HEADROOM_ROWS)
    found.append(
        _verdict(
            f"headroom: one window of {rows_label(HEADROOM_ROWS)} orders end to end",
            f"≤ {HEADROOM_S:.0f} s (0.2 of a 5-minute window)",
            headroom and headroom.seconds,
            lambda value: value <= HEADROOM_S,
            "{:.1f} s",
        )
    )
    peer = [s for s in summaries if s.case == "dlt"]
    ours = {s.rows: s for s in summaries if s.case == "load_orders"}
    if peer:
        text = "; ".join(
            f"{rows_label(s.rows)}: dlt {s.ratio:.2f}x vs LoadOrders {ours[s.rows].ratio:.2f}x"
            for s in peer
            if s.rows in ours and s.ratio is not None and ours[s.rows].ratio is not None
        )
        found.append(Target("peers: dlt on the same file", "reported beside ours", text or "measured", "reported"))
    else:
        found.append(Target("peers: dlt on the same file", "reported beside ours", "—", "not measured"))
    if noop:
        found.append(
            _verdict(
                f"overhead: no-op over {noop['windows']} complete windows vs 1",
                f"≤ {NOOP_RATIO:.0f}x the one-window no-op",
                noop["ratio"],
                lambda value: value <= NOOP_RATIO,
                "{:.2f}x",
            )
        )
    else:
        found.append(Target("overhead: no-op day vs one window", f"≤ {NOOP_RATIO:.0f}x", "—", "not measured"))
    found.extend(capture_targets(captures))
    if ledger:
        found.append(
            _verdict(
                f"overhead: `storepipe plan` over {ledger['windows']:,} current windows (a year) vs 1",
                f"≤ {NOOP_RATIO:.0f}x the one-window plan",
                ledger["plan_year"] / ledger["plan_one"],
                lambda value: value <= NOOP_RATIO,
                "{:.2f}x",
                15,
            )
        )
    else:
        found.append(
            Target("overhead: `storepipe plan` over a year vs 1", f"≤ {NOOP_RATIO:.0f}x", "—", "not measured", 15)
        )
    found.extend(issue18_targets(summaries, limit or {}, fixed, ledger, elapsed))
    return sorted(found, key=lambda target: target.issue)  # stable: each issue's targets in the order above


def issue18_targets(
    summaries: Sequence[Summary],
    limit: dict[int, tuple[str, float]],
    fixed: dict | None,
    ledger: dict | None,
    elapsed: float | None,
) -> list[Target]:
    """Issue 18: the whole window against the floor, LoadOrders against the true COPY limit, the fixed cost of a
    small window, the ledger over a year, a 5M window end to end, and the benchmark's own duration."""
    found = []
    for rows in RATIO_SIZES:
        s = find(summaries, "whole_window", rows)
        found.append(
            _verdict(
                f"floor: RunWindow at {rows_label(rows)} vs the hand-written floor",
                f"≥ {FLOOR_RATIO:.2f}x the floor's throughput",
                s and s.floor_ratio,
                lambda value: value >= FLOOR_RATIO,
                "{:.2f}x",
                18,
            )
        )
    for rows in RATIO_SIZES:
        s = find(summaries, "load_orders", rows)
        found.append(
            _verdict(
                f"limit: LoadOrders at {rows_label(rows)} vs the true COPY limit",
                f"≥ {LIMIT_RATIO:.2f}x",
                s and s.ratio,
                lambda value: value >= LIMIT_RATIO,
                "{:.2f}x",
                18,
            )
        )
    points = sorted((s.rows, s.rss_mb) for s in summaries if s.case == "load_orders")
    found.append(bounded_and_flat(f"memory: LoadOrders peak at {_sizes(points)}", points, LOAD_MEMORY_MB, 18))
    found.append(small_window_target(fixed, limit))
    for key, command in (("dry", "`storepipe backfill --dry-run`"), ("status", "`storepipe status`")):
        found.append(ledger_target(ledger, key, command))
    headroom = find(summaries, "whole_window", HEADROOM_ROWS)
    found.append(
        _verdict(
            f"headroom: one window of {rows_label(HEADROOM_ROWS)} orders end to end",
            f"≤ {FAST_HEADROOM_S:.0f} s (0.1 of a 5-minute window)",
            headroom and headroom.seconds,
            lambda value: value <= FAST_HEADROOM_S,
            "{:.1f} s",
            18,
        )
    )
    found.append(
        _verdict(
            "duration: this whole `make bench` run",
            f"< {BENCH_MINUTES:.0f} min",
            None if elapsed is None else elapsed / 60,
            lambda value: value < BENCH_MINUTES,
            "{:.1f} min",
            18,
        )
    )
    return found


def small_window_target(fixed: dict | None, limit: dict[int, tuple[str, float]]) -> Target:
    """A small window in a one-worker backfill costs no more than the true COPY limit's time for 100k orders."""
    name = "fixed cost: one small window in a 1-worker backfill"
    goal = f"≤ a raw COPY of {rows_label(SMALL_WINDOW_ROWS)} orders (the limit's time, same run)"
    if not fixed or SMALL_WINDOW_ROWS not in limit:
        return Target(name, goal, "—", "not measured", 18)
    name = f"fixed cost: a window of {fixed['orders_per_window']:,} orders in a {fixed['workers']}-worker backfill"
    per_window = fixed["wall"] / fixed["windows"]
    copy_s = limit[SMALL_WINDOW_ROWS][1]
    measured = f"{per_window:.2f} s vs {copy_s:.2f} s ({per_window / copy_s:.2f}x)"
    return Target(name, goal, measured, "PASS" if per_window <= copy_s else "FAIL", 18)


def ledger_target(ledger: dict | None, key: str, command: str) -> Target:
    """A command's check of a year of complete windows: at most LEDGER_S and LEDGER_RATIO times one window's."""
    goal = f"≤ {LEDGER_S:.0f} s and ≤ {LEDGER_RATIO:.0f}x one window"
    if not ledger:
        return Target(f"ledger: {command} over a year of complete windows", goal, "—", "not measured", 18)
    year, one = ledger[f"{key}_year"], ledger[f"{key}_one"]
    return Target(
        f"ledger: {command} over a year ({ledger['windows']:,} complete windows)",
        goal,
        f"{year:.2f} s, {year / one:.1f}x one window ({one:.2f} s)",
        "PASS" if year <= LEDGER_S and year / one <= LEDGER_RATIO else "FAIL",
        18,
    )


def summarize_captures(runs: Sequence[dict]) -> list[CaptureSummary]:
    """One CaptureSummary per number of changes, smallest first, from benchmarks.capture.measure's results."""
    groups: dict[int, list[dict]] = {}
    for run in runs:
        groups.setdefault(run["changes"], []).append(run)
    return [
        CaptureSummary(
            changes=changes,
            repeats=len(found),
            server_changes_per_s=median(r["server_changes_per_s"] for r in found),
            capture_changes_per_s=median(r["capture_changes_per_s"] for r in found),
            ratio=median(r["ratio"] for r in found),
            peak_mb=max(r["peak_mb"] for r in found),
        )
        for changes, found in sorted(groups.items())
    ]


def capture_targets(captures: Sequence[CaptureSummary]) -> list[Target]:
    """Issue 13: the capture at ≥ 0.1x the server's decoding at every size, its memory bounded and flat."""
    sizes = ", ".join(rows_label(c.changes) for c in captures) or "no size"
    ratio_target = _verdict(
        f"capture: slot → lake vs the server's decoding at {sizes} changes",
        f"≥ {CAPTURE_RATIO:.1f}x at every size",
        min((c.ratio for c in captures), default=None),
        lambda value: value >= CAPTURE_RATIO,
        "{:.3f}x (worst)",
        13,
    )
    points = [(c.changes, c.peak_mb) for c in captures]
    return [ratio_target, bounded_and_flat(f"memory: capture peak at {sizes} changes", points, CAPTURE_MEMORY_MB, 13)]


def bounded_and_flat(name: str, points: Sequence[tuple[int, float]], bound_mb: float, issue: int) -> Target:
    """Peak memory (size, MB) at most `bound_mb` at every size and flat: at most FLAT_GROWTH from the smallest
    size to the largest. One size shows the bound only: "not measured", unless it breaks the bound."""
    goal = f"≤ {bound_mb:.0f} MB at every size and flat (≤ {FLAT_GROWTH}x from smallest to largest)"
    if not points:
        return Target(name, goal, "—", "not measured", issue)
    ordered = sorted(points)
    smallest, largest = ordered[0][1], ordered[-1][1]
    worst = max(mb for _, mb in ordered)
    growth = largest / smallest
    measured = f"{smallest:.0f} → {largest:.0f} MB ({growth:.2f}x)"
    if worst > bound_mb:
        verdict = "FAIL"
    elif len(ordered) < 2:
        # one size shows the bound, not whether memory grows with the size
        verdict, measured = "not measured", f"{worst:.0f} MB at one size only"
    else:
        verdict = "PASS" if growth <= FLAT_GROWTH else "FAIL"
    return Target(name, goal, measured, verdict, issue)


def _sizes(points: Sequence[tuple[int, float]]) -> str:
    return ", ".join(rows_label(rows) for rows, _ in points) or "no size"


def capture_section(captures: Sequence[CaptureSummary], per_transaction: int | None) -> str:
    """results.md's "Change capture": the table and what its two rates are."""
    batch = f"{per_transaction} to a transaction" if per_transaction else "in transactions"
    return "\n".join(
        [
            "## Change capture",
            "",
            capture_table(captures),
            "",
            f"Each run makes N single-row updates of customers ({batch}) after two new slots on the source: "
            "the server decodes one with pgoutput and only counts (`pg_logical_slot_get_binary_changes`, "
            "timed in the driver); a child process then runs `storepipe.tasks.capture.run` on the other "
            "(the slot set up by `capture.init`, which recorded its snapshot in the warehouse ledger): pgoutput "
            "decoding in Python, a CSV segment per window in a file:// lake, the run's manifest, the ledger rows "
            "in the warehouse, the slot's advance, timed from the call to its return (imports excluded). Both "
            "rates are in changes/s and the ratio is the capture's over the server's, repeat by repeat; every "
            "run checks that the capture's count and the landed segments' rows equal the changes written. "
            "Peak memory is the child's high-water mark (VmHWM), the worst repeat.",
        ]
    )


def capture_table(captures: Sequence[CaptureSummary]) -> str:
    return markdown_table(
        [
            "changes",
            "repeats",
            "server decoding, changes/s",
            "capture slot → lake, changes/s",
            "ratio",
            "peak memory MB (VmHWM)",
        ],
        (
            [
                f"{c.changes:,}",
                c.repeats,
                f"{c.server_changes_per_s:,.0f}",
                f"{c.capture_changes_per_s:,.0f}",
                f"{c.ratio:.3f}",
                f"{c.peak_mb:.0f}",
            ]
            for c in captures
        ),
    )


def _baseline_targets(summaries: Sequence[Summary]) -> list[Target]:
    original = sorted((s for s in summaries if s.case == "original_way"), key=lambda s: s.rows)
    if not original:
        return [Target("baseline: original project's way", "many times faster, flat memory", "—", "not measured")]
    found = []
    for old in original:
        ours = find(summaries, "load_orders", old.rows)
        found.append(
            _verdict(
                f"baseline: LoadOrders vs the original way at {rows_label(old.rows)}",
                f"≥ {BASELINE_SPEEDUP:.0f}x faster",
                ours and old.seconds / ours.seconds,
                lambda value: value >= BASELINE_SPEEDUP,
                "{:.1f}x faster",
            )
        )
    if len(original) > 1:
        ours = sorted((s for s in summaries if s.case == "load_orders"), key=lambda s: s.rows)
        grown = original[-1].rss_mb / original[0].rss_mb
        ours_grown = ours[-1].rss_mb / ours[0].rss_mb if len(ours) > 1 else None
        measured = f"original {original[0].rss_mb:.0f} → {original[-1].rss_mb:.0f} MB ({grown:.1f}x)"
        if ours_grown is not None:
            measured += f"; LoadOrders {ours[0].rss_mb:.0f} → {ours[-1].rss_mb:.0f} MB ({ours_grown:.2f}x)"
        flat = ours_grown is not None and ours_grown <= 1.25 and ours[-1].rss_mb <= MEMORY_MB
        found.append(
            Target(
                "baseline: memory where the original's grows",
                "ours flat (≤ 1.25x from smallest to largest, ≤ 150 MB)",
                measured,
                "PASS" if flat else "FAIL",
            )
        )
    return found


def _verdict(name: str, goal: str, value: float | None, ok, shown: str, issue: int = 7) -> Target:
    if value is None:
        return Target(name, goal, "—", "not measured", issue)
    return Target(name, goal, shown.format(value), "PASS" if ok(value) else "FAIL", issue)


def rows_label(rows: int) -> str:
    """100000 → 100k, 5000000 → 5M."""
    if rows >= 1_000_000 and rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows >= 1_000 and rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return f"{rows:,}"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)
    return "\n".join(lines)


def cases_table(summaries: Sequence[Summary]) -> str:
    return markdown_table(
        [
            "case",
            "rows",
            "repeats",
            "median s",
            "fastest .. slowest s",
            "rows/s",
            "ratio to the COPY limit",
            "ratio to the floor",
            "peak RSS MB",
            "others' CPU, worst repeat",
        ],
        (
            [
                CASES.get(s.case, s.case),
                f"{s.rows:,}",
                s.repeats,
                f"{s.seconds:.2f}",
                f"{s.low:.2f} .. {s.high:.2f}",
                f"{s.rows_per_s:,.0f}",
                _times(s.ratio),
                _times(s.floor_ratio),
                f"{s.rss_mb:.0f}",
                _share(s.others),
            ]
            for s in summaries
        ),
    )


def _times(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def others_text(runs: Sequence[Run]) -> str:
    """`3% / 41% of the machine`: the median and worst share of the machine others used during the runs."""
    shares = [r.others for r in runs if r.others is not None]
    if not shares:
        return "—"
    return f"{median(shares):.0%} / {max(shares):.0%} of the machine"


def busy_note(runs: Sequence[Run]) -> str | None:
    """A warning when some runs shared the machine, naming them; None when every run had it to itself."""
    busy = [r for r in runs if r.others is not None and r.others > BUSY_SHARE]
    if not busy:
        return None
    named = ", ".join(f"{r.case} {rows_label(r.rows)} #{r.repeat + 1} ({r.others:.0%})" for r in busy)
    return (
        f"**{len(busy)} of {len(runs)} timed runs shared the machine** (others used over {BUSY_SHARE:.0%} of it "
        f"meanwhile), so they are slower than the machine is and medians lean on the other repeats: {named}."
    )


def limits_table(summaries: Sequence[Summary], limit: dict[int, tuple[str, float]]) -> str:
    """Per size: both COPYs' medians and which was the limit (the 1.00 of every ratio at that size)."""
    sizes = sorted(limit)

    def seconds(case: str, rows: int) -> str:
        found = find(summaries, case, rows)
        return "—" if found is None else f"{found.seconds:.2f}"

    def verdict(rows: int) -> str:
        case, limit_s = limit[rows]
        other = next((c for c in LIMIT_CASES if c != case and find(summaries, c, rows)), None)
        if other is None:
            return f"{LIMIT_NAMES[case]} (the other was not run)"
        slower = find(summaries, other, rows).seconds / limit_s
        return f"{LIMIT_NAMES[case]} ({LIMIT_NAMES[other]} took {slower:.2f}x its time)"

    return markdown_table(
        ["rows", "`psql \\copy` median s", "server-side `COPY` median s", "the limit (1.00)"],
        ([f"{rows:,}", seconds("raw_copy", rows), seconds("server_copy", rows), verdict(rows)] for rows in sizes),
    )


def targets_table(found: Sequence[Target]) -> str:
    return markdown_table(
        ["issue", "target", "goal", "measured", "verdict"],
        ([f"#{t.issue}", t.name, t.goal, t.measured, f"**{t.verdict}**"] for t in found),
    )


def busy_seconds(intervals: Iterable[tuple[float, float]]) -> float:
    """Seconds covered by at least one (start, end) interval: time when some task was running."""
    total, reach = 0.0, None
    for start, end in sorted(intervals):
        if reach is None or start > reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


def steps_table(runs: Sequence[Run], case: str = "whole_window") -> str | None:
    """Median seconds per task of `case` at each size (from Luigi's PROCESSING_TIME), or None if none."""
    sizes = sorted({r.rows for r in runs if r.case == case and r.detail and r.detail.get("tasks")})
    if not sizes:
        return None
    per: dict[str, dict[int, list[float]]] = {}
    for run in runs:
        if run.case == case and run.detail and run.detail.get("tasks"):
            for task, seconds in run.detail["tasks"].items():
                per.setdefault(task, {}).setdefault(run.rows, []).append(seconds)
    order = sorted(per, key=lambda task: -median(per[task].get(sizes[-1], [0.0])))
    return markdown_table(
        ["task", *(f"{rows_label(s)} (median s)" for s in sizes)],
        ([task, *(f"{median(per[task][s]):.2f}" if s in per[task] else "—" for s in sizes)] for task in order),
    )


def fixed_cost_table(fixed: dict, limit: dict[int, tuple[str, float]]) -> str:
    """The small-window backfill per window: wall, inside tasks, with no task running, next to the limit at 100k."""
    windows = fixed["windows"]
    copy = limit.get(SMALL_WINDOW_ROWS)
    return markdown_table(
        [
            "backfill",
            "workers",
            "wall s",
            "per window s",
            "per window inside tasks s",
            "per window with no task running s",
            "tasks per window",
            "ms per task",
            f"COPY limit, {rows_label(SMALL_WINDOW_ROWS)} orders, s",
            "others' CPU",
        ],
        [
            [
                f"{windows} windows x {fixed['orders_per_window']:,} orders",
                fixed["workers"],
                f"{fixed['wall']:.1f}",
                f"{fixed['wall'] / windows:.3f}",
                f"{fixed['busy'] / windows:.3f}",
                f"{fixed['outside_tasks'] / windows:.3f} ({fixed['outside_tasks'] / fixed['wall']:.0%})",
                f"{fixed['tasks'] / windows:.1f}",
                f"{1000 * fixed['task_seconds'] / max(fixed['tasks'], 1):.0f}",
                "—" if copy is None else f"{copy[1]:.3f} ({LIMIT_NAMES[copy[0]]})",
                _share(fixed.get("others")),
            ]
        ],
    )


def ledger_table(ledger: dict) -> str:
    """Each ledger command over one window and over a year of complete windows, medians."""
    rows = [
        ("`storepipe backfill --dry-run` (the CLI, process start to exit)", "dry"),
        ("`storepipe status --start --end` (the CLI, process start to exit)", "status"),
        ("`storepipe plan`'s work (in-process, imports excluded)", "plan"),
    ]
    return markdown_table(
        ["over complete windows", "1 window s", f"a year ({ledger['windows']:,}) s", "ratio"],
        (
            [
                label,
                f"{ledger[f'{key}_one']:.3f}",
                f"{ledger[f'{key}_year']:.3f}",
                f"{ledger[f'{key}_year'] / ledger[f'{key}_one']:.2f}",
            ]
            for label, key in rows
        ),
    )


def document(
    *,
    summaries: Sequence[Summary],
    found: Sequence[Target],
    runs: Sequence[Run],
    facts: dict[str, str],
    noop: dict | None,
    backfills: Sequence[dict],
    config: dict,
    captures: Sequence[CaptureSummary] = (),
    fixed: dict | None = None,
    ledger: dict | None = None,
) -> str:
    """benchmarks/results/results.md: the targets, the cases, the COPY limit, where the window's time goes, the
    change capture, the fixed cost of a window, the ledger at scale, the overhead, and how."""
    passed = sum(t.verdict == "PASS" for t in found)
    failed = sum(t.verdict == "FAIL" for t in found)
    issues = sorted({t.issue for t in found})
    sizes = ", ".join(
        f"{rows_label(rows)} rows = {size / 1e6:,.0f} MB" for rows, size in sorted(config["file_sizes"].items())
    )
    limit = limits(runs)
    parts = [
        "# storepipe load benchmark",
        "",
        "Written by `make bench` (benchmarks/bench.py); do not edit by hand. Ratios are to the true COPY limit "
        "of the same file in the same run: at each size, the faster of a raw `psql \\copy` and a server-side "
        "`COPY ... FROM 'file'` (\"The COPY limit\" below says which); 1.00 is PostgreSQL's COPY on this "
        'machine, higher is faster. The whole window is also compared with the hand-written floor ("ratio to '
        'the floor"): the least SQL an expert writes for the same facts.',
        "",
        markdown_table(["machine", ""], facts.items()),
        "",
        f"Sizes {', '.join(rows_label(s) for s in config['sizes'])}, {config['repeats']} repeats each, "
        f"medians; the whole run took {config['elapsed'] / 60:.1f} min. Files: {sizes}.",
        "",
        f"## Targets (issues {', '.join(f'#{i}' for i in issues)}): {passed} pass, {failed} fail",
        "",
        targets_table(found),
        "",
        "## Load throughput and memory",
        "",
        cases_table(summaries),
        "",
        "Peak RSS is the worst repeat's high-water mark (VmHWM) of the process that ran the case "
        "(for the COPYs and the floor: psql; for storepipe: the Luigi worker, which runs its tasks in-process). "
        "Others' CPU is the share of the machine that processes other than the benchmark's own (another "
        "user's work, the hypervisor's steal) used while the case ran: the machine's busy CPU time less the "
        "benchmark's processes' and its PostgreSQL's (benchmarks/cpu.py); a quiet machine reads a few percent. "
        "It does not see contention for the disk or the host underneath: repeats can differ with others' CPU "
        "at zero (compare fastest .. slowest), so a ratio within about 0.2 of a target is not a verdict to "
        "lean on.",
    ]
    note = busy_note(runs)
    if note:
        parts += ["", note]
    if limit:
        parts += [
            "",
            "## The COPY limit",
            "",
            limits_table(summaries, limit),
            "",
            "`psql \\copy` is a client: it reads and parses the file and sends it over the socket. The "
            "server-side `COPY ... FROM '<absolute path>'` has the server read the file itself (it needs a "
            "superuser or pg_read_server_files: the benchmark's own stack's superuser runs this case only). "
            "Both load the same fresh, unindexed partition-shaped table.",
        ]
    steps = steps_table(runs)
    if steps:
        parts += [
            "",
            "## Where the whole window's time goes",
            "",
            "Each task's run time (Luigi's PROCESSING_TIME event) inside `RunWindow`; the rest of the end-to-end "
            "time is Luigi scheduling and completeness checks.",
            "",
            steps,
        ]
    if captures:
        parts += ["", capture_section(captures, config.get("capture_per_transaction"))]
    if fixed:
        parts += [
            "",
            "## Fixed cost of a window",
            "",
            fixed_cost_table(fixed, limit),
            "",
            f"A backfill (`storepipe.ops.backfill`, local scheduler, {fixed['workers']} worker) of "
            f"{fixed['windows']} consecutive windows of {fixed['orders_per_window']:,} orders each, from the "
            "orders bucket to the marts with every check: what a window costs when it moves almost nothing. "
            '"Inside tasks" is the time some task was running (Luigi\'s PROCESSING_TIME events); the rest is '
            "the scheduler, completeness checks and the worker's own work between tasks. At this rate a year "
            f"of 5-minute windows (105,120) would take {fixed['wall'] / fixed['windows'] * 105_120 / 3600:.1f} "
            "hours to backfill (an extrapolation).",
        ]
    if ledger:
        parts += [
            "",
            "## Ledger at scale",
            "",
            ledger_table(ledger),
            "",
            f"Medians of {ledger['repeats']} interleaved runs against one warehouse holding the markers of a year "
            f"of complete windows ({ledger['windows']:,} windows x {ledger['markers_per_window']} markers, as a "
            "run leaves them: the transforms' and publish's on the current versions), written straight "
            "into storepipe.markers and analyzed beforehand, so only the check is timed. The one-window runs "
            f"ask about the year's first window of the same warehouse. Others' CPU meanwhile: "
            f"{_share(ledger.get('others'))} of the machine.",
        ]
    parts += ["", "## Overhead: no-op ranges and backfills", ""]
    if noop:
        parts += [
            markdown_table(
                [
                    "no-op `storepipe backfill --local-scheduler` over complete windows",
                    "1 window",
                    "a day (288)",
                    "ratio",
                ],
                [
                    [
                        "in-process (`main()` timed, imports excluded)",
                        f"{noop['one'] * 1000:.0f} ms",
                        f"{noop['day'] * 1000:.0f} ms",
                        f"{noop['ratio']:.2f}",
                    ],
                    [
                        "the CLI as cron runs it (process start to exit)",
                        f"{noop['cli_one']:.2f} s",
                        f"{noop['cli_day']:.2f} s",
                        f"{noop['cli_ratio']:.2f}",
                    ],
                ],
            ),
            "",
            f"Medians of {noop['repeats']} interleaved runs; the day's markers are written straight into "
            "storepipe.markers beforehand (what a finished day leaves), so only the completeness check is timed.",
            "",
        ]
    if backfills:
        windows = backfills[0]["windows"]
        parts += [
            markdown_table(
                [
                    "backfill",
                    "workers",
                    "wall s",
                    "tasks",
                    "sum of task run times s",
                    "some task running s",
                    "no task running s (scheduler, checks, forks)",
                    "per window s",
                    "others' CPU",
                ],
                (
                    [
                        f"{b['windows']} windows x {b['orders_per_window']:,} orders",
                        b["workers"],
                        f"{b['wall']:.1f}",
                        b["tasks"],
                        f"{b['task_seconds']:.1f}",
                        f"{b['busy']:.1f}",
                        f"{b['outside_tasks']:.1f} ({b['outside_tasks'] / b['wall']:.0%})",
                        f"{b['wall'] / b['windows']:.2f}",
                        _share(b.get("others")),
                    ]
                    for b in backfills
                ),
            ),
            "",
            f"A day is 288 windows; this backfill ran {windows} of them (one run per worker count) to stay in "
            f"the time budget. At the measured rate a day of such windows takes about "
            + ", ".join(
                f"{b['wall'] * 288 / b['windows'] / 60:.1f} min with {b['workers']} worker(s)" for b in backfills
            )
            + " (an extrapolation, not a measurement).",
        ]
    skipped = []
    if config["original_max"] < max(config["sizes"]):
        skipped.append(
            f"The original project's way runs only up to {rows_label(config['original_max'])} rows: it holds the "
            "whole file as dicts (its memory grows with the file; several GB at 5M rows) and runs at a "
            "fraction of COPY's speed, so larger sizes do not fit the time budget."
        )
    if config["dlt_max"] < max(config["sizes"]):
        skipped.append(
            f"dlt runs only up to {rows_label(config['dlt_max'])} rows: it passes every row through Python "
            "(extract, normalize) before its COPY, about half a minute per million rows and the same ratio at "
            "every size, so larger sizes do not earn their place in the time budget."
        )
    parts += [
        "",
        "## How it was measured",
        "",
        "- Data: one 5-minute window of orders (`order_id,customer_id,item_id,item_name,delivered_on`: two UUIDs, "
        "an int, a name, a timestamp), written by benchmarks/data.py with a seeded generator, cached in "
        "benchmarks/data/.",
        "- Every case runs in a process of its own, against a fresh database copied from the migrated warehouse; "
        "cases are interleaved (repeats outermost, the case order rotated each repeat); before each one a "
        "`CHECKPOINT` and a sync write out what the previous case left dirty, untimed.",
        "- raw COPY: `psql \\copy` from the file into `bench.raw_orders`, a table with store.orders' columns and "
        "not-null constraints, the window's start as a constant default and no index (the window partition "
        "LoadOrders swaps in, minus nothing); timed from psql's start to its exit.",
        "- server-side COPY: `COPY bench.raw_orders ... FROM '<the file's absolute path>'` in a psql run as the "
        "stack's superuser (the pipeline's roles stay unprivileged); timed from psql's start to its exit.",
        "- The floor (benchmarks/sql/floor_insert.sql): one psql run, in one transaction, of the same `\\copy` "
        "into `bench.raw_orders` and then one `INSERT ... SELECT` that keeps one row per order_id (`distinct on`, "
        "the latest delivery, then the lowest item_id, as stg_orders ranks them) and joins each order to the "
        "customer version current at delivery in analytics.dim_customers, into `bench.floor_orders`, made "
        "`like analytics.fct_orders including all` (its columns and its indexes: window_start, unique order_id, "
        "customer_id). dim_customers holds what RunWindow's warehouse holds when it builds fct_orders (the "
        "unknown member and one version of each of the window's 300 customers), written untimed before; timed "
        "from psql's start to its exit; every fact is checked to have found its customer.",
        "- LoadOrders: the file is the window's lake copy (file:// lake) and its `extract:orders` marker exists; "
        "`luigi.build([LoadOrders])` with the local scheduler, timed by Luigi's PROCESSING_TIME (task start to "
        "commit), into store.orders as the current migrations define it (indexes, partitions and all).",
        f"- RunWindow: the orders sit in the orders bucket (moto S3 over HTTP, {config['rows_per_object']:,} rows "
        "per object, uploaded before timing), 300 customers and their risk scores come from the source DB and the "
        "risk API; timed around `luigi.build([RunWindow])`: extract, load, staging, publish and checks.",
        "- The original way: `csv.DictReader` into a list, then `psycopg2.extras.execute_batch` (page size 100) "
        "into `bench.original_orders` (same shape as raw_orders), one commit.",
        "- dlt: a resource yielding pages of 10,000 dicts from `csv.DictReader`, the postgres destination with "
        '`loader_file_format="csv"` (COPY); timed around `pipeline.run`.',
        "- Every case's row count is checked after it is timed; a case that loads the wrong count stops the run.",
    ]
    if not captures:
        skipped.append("The change capture did not run (BENCH_CAPTURE_SIZES was empty or 0).")
    if not fixed:
        skipped.append("The fixed cost of a window did not run (BENCH_OVERHEAD=0).")
    if not ledger:
        skipped.append("The ledger at scale did not run (BENCH_OVERHEAD=0).")
    if skipped:
        parts += ["", "## Not measured", ""] + [f"- {line}" for line in skipped]
    return "\n".join(parts) + "\n"
