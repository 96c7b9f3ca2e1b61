"""The benchmark's pure helpers: medians, ratios to raw COPY, verdicts, tables (the benchmark is `make bench`)."""

import pytest

from benchmarks import report
from benchmarks.report import Run
from storepipe.errors import StorepipeError


def runs(case: str, rows: int, seconds: list[float], rss: list[float]) -> list[Run]:
    return [Run(case, rows, i, s, m) for i, (s, m) in enumerate(zip(seconds, rss, strict=True))]


def test_median_of_odd_and_even_counts_and_of_nothing():
    assert report.median([3.0, 1.0, 2.0]) == 2.0
    assert report.median([4.0, 1.0, 2.0, 3.0]) == 2.5
    with pytest.raises(ValueError):
        report.median([])


def test_ratio_is_raw_copy_seconds_over_case_seconds():
    assert report.ratio(3.0, 4.0) == pytest.approx(0.75)
    assert report.ratio(2.0, 1.0) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        report.ratio(1.0, 0.0)


def test_summaries_take_medians_and_compare_with_the_same_sizes_raw_copy():
    found = report.summarize(
        runs("load_orders", 1_000_000, [5.0, 4.0, 100.0], [60, 70, 65])
        + runs("raw_copy", 1_000_000, [3.0, 3.2, 2.8], [5, 5, 5])
        + runs("raw_copy", 100_000, [0.5, 0.3, 0.4], [5, 5, 5])
        + runs("load_orders", 100_000, [0.8, 0.8, 0.8], [50, 50, 50])
    )
    assert [(s.case, s.rows) for s in found] == [
        ("raw_copy", 100_000),
        ("raw_copy", 1_000_000),
        ("load_orders", 100_000),
        ("load_orders", 1_000_000),
    ]
    big = report.find(found, "load_orders", 1_000_000)
    assert big.seconds == 5.0  # the outlier repeat does not move the median
    assert big.ratio == pytest.approx(3.0 / 5.0)
    assert big.rows_per_s == pytest.approx(200_000)
    assert big.rss_mb == 70  # the worst repeat
    assert (big.low, big.high) == (4.0, 100.0)
    assert report.find(found, "load_orders", 100_000).ratio == pytest.approx(0.5)


def test_a_case_without_its_raw_copy_has_no_ratio():
    (only,) = report.summarize(runs("dlt", 100_000, [10.0], [90]))
    assert only.ratio is None
    assert "| — |" in report.cases_table([only])


def test_targets_pass_fail_and_never_pass_what_was_not_measured():
    summaries = report.summarize(
        runs("raw_copy", 1_000_000, [3.0], [5])
        + runs("load_orders", 1_000_000, [6.0], [200])
        + runs("whole_window", 1_000_000, [5.0], [100])
    )
    verdicts = {t.name: t.verdict for t in report.targets(summaries, {"windows": 288, "ratio": 2.5})}
    assert verdicts["throughput: load_orders at 1M"] == "FAIL"  # 0.5 < 0.8
    assert verdicts["throughput: whole_window at 1M"] == "PASS"  # 0.6 >= 0.5
    assert verdicts["throughput: load_orders at 5M"] == "not measured"
    assert verdicts["memory: load_orders peak RSS at 1M"] == "FAIL"  # 200 MB > 150
    assert verdicts["headroom: one window of 5M orders end to end"] == "not measured"
    assert verdicts["overhead: no-op over 288 complete windows vs 1"] == "FAIL"  # 2.5 > 2
    assert verdicts["baseline: original project's way"] == "not measured"


def test_busy_seconds_count_overlapping_task_intervals_once():
    assert report.busy_seconds([]) == 0.0
    assert report.busy_seconds([(0.0, 2.0), (1.0, 3.0), (5.0, 6.0), (5.5, 5.7)]) == pytest.approx(4.0)


def test_tables_and_labels():
    assert [report.rows_label(n) for n in (100_000, 1_000_000, 5_000_000, 1_500)] == ["100k", "1M", "5M", "1,500"]
    table = report.markdown_table(["a", "b"], [[1, "x"], [2, "y"]]).splitlines()
    assert table == ["| a | b |", "|---|---|", "| 1 | x |", "| 2 | y |"]


def capture_run(changes: int, server: float, captured: float, peak: float) -> dict:
    """What benchmarks.capture.measure returns for one run (rates in changes/s)."""
    return {
        "changes": changes,
        "server_changes_per_s": server,
        "capture_changes_per_s": captured,
        "ratio": captured / server,
        "peak_mb": peak,
    }


def test_capture_summaries_take_medians_per_size_and_the_worst_peak():
    found = report.summarize_captures(
        [
            capture_run(1_000_000, 1_000_000.0, 150_000.0, 70.0),
            capture_run(100_000, 900_000.0, 90_000.0, 60.0),
            capture_run(1_000_000, 1_100_000.0, 100_000.0, 72.0),
            capture_run(1_000_000, 800_000.0, 200_000.0, 71.0),
        ]
    )
    assert [(c.changes, c.repeats) for c in found] == [(100_000, 1), (1_000_000, 3)]
    big = found[1]
    assert big.server_changes_per_s == 1_000_000.0
    assert big.capture_changes_per_s == 150_000.0
    # the median of each run's own ratio (0.15, 0.0909, 0.25), not a ratio of medians taken from different runs
    assert big.ratio == pytest.approx(0.15)
    assert big.peak_mb == 72.0
    assert report.summarize_captures([]) == []


def test_capture_targets_need_every_size_fast_enough_and_memory_bounded_and_flat():
    def verdicts(*runs: dict) -> dict[str, tuple[str, str]]:
        found = report.capture_targets(report.summarize_captures(runs))
        assert len(found) == 2
        return {t.name.split(":")[0]: (t.verdict, t.measured) for t in found}

    passing = verdicts(capture_run(100_000, 1e6, 2e5, 60.0), capture_run(1_000_000, 1e6, 1.5e5, 70.0))
    assert passing == {"capture": ("PASS", "0.150x (worst)"), "memory": ("PASS", "60 → 70 MB (1.17x)")}
    # one size too slow fails the ratio target; memory that grows with the changes fails even under the bound
    slow = verdicts(capture_run(100_000, 1e6, 2e5, 40.0), capture_run(1_000_000, 1e6, 0.9e5, 60.0))
    assert slow["capture"] == ("FAIL", "0.090x (worst)")
    assert slow["memory"][0] == "FAIL"  # 1.5x from 100k to 1M
    assert verdicts(capture_run(100_000, 1e6, 2e5, 101.0), capture_run(1_000_000, 1e6, 2e5, 101.0))["memory"][0] == (
        "FAIL"
    )
    # one size cannot show flatness: not a pass, though a bound it breaks is a fail
    assert verdicts(capture_run(100_000, 1e6, 2e5, 60.0))["memory"] == ("not measured", "60 MB at one size only")
    assert verdicts(capture_run(100_000, 1e6, 2e5, 160.0))["memory"][0] == "FAIL"
    nothing = report.capture_targets([])
    assert [t.verdict for t in nothing] == ["not measured", "not measured"]


def test_capture_rows_join_the_targets_table_and_the_document_gets_its_section():
    captures = report.summarize_captures(
        [capture_run(100_000, 1e6, 2e5, 60.0), capture_run(1_000_000, 1e6, 1.5e5, 70.0)]
    )
    summaries = report.summarize(runs("raw_copy", 100_000, [0.2], [3]))
    names = [t.name for t in report.targets(summaries, None, captures)]
    assert "capture: slot → lake vs the server's decoding at 100k, 1M changes" in names
    assert "memory: capture peak at 100k, 1M changes" in names
    config = {
        "sizes": [100_000],
        "repeats": 1,
        "original_max": 100_000,
        "dlt_max": 100_000,
        "file_sizes": {100_000: 11e6},
        "elapsed": 60.0,
        "rows_per_object": 100_000,
        "capture_per_transaction": 100,
    }
    text = report.document(
        summaries=summaries,
        found=report.targets(summaries, None, captures),
        runs=[],
        facts={"cores": "2"},
        noop=None,
        backfills=[],
        config=config,
        captures=captures,
    )
    section = text.split("## Change capture\n", 1)[1].split("\n## ", 1)[0]
    assert "| 1,000,000 | 1 | 1,000,000 | 150,000 | 0.150 | 70 |" in section
    assert "| 100,000 | 1 | 1,000,000 | 200,000 | 0.200 | 60 |" in section
    assert "100 to a transaction" in section
    # without the case the document says so instead of showing an empty section
    without = report.document(
        summaries=summaries,
        found=report.targets(summaries),
        runs=[],
        facts={},
        noop=None,
        backfills=[],
        config=config,
    )
    assert "## Change capture" not in without
    assert "The change capture did not run" in without


def test_capture_sizes_default_to_100k_and_1m_and_empty_or_0_turns_the_case_off():
    from benchmarks.bench import Settings

    assert Settings.from_env({}).capture_sizes == [100_000, 1_000_000]
    assert Settings.from_env({}).capture_repeats == 1  # one repeat a size keeps make bench under 20 minutes
    found = Settings.from_env({"BENCH_CAPTURE_SIZES": "1000000,100000", "BENCH_CAPTURE_REPEATS": "1"})
    assert (found.capture_sizes, found.capture_repeats) == ([100_000, 1_000_000], 1)
    assert Settings.from_env({"BENCH_CAPTURE_SIZES": ""}).capture_sizes == []
    assert Settings.from_env({"BENCH_CAPTURE_SIZES": "0"}).capture_sizes == []
    with pytest.raises(StorepipeError, match="BENCH_CAPTURE_SIZES"):
        Settings.from_env({"BENCH_CAPTURE_SIZES": "lots"})
    with pytest.raises(StorepipeError, match="multiples of 100"):
        Settings.from_env({"BENCH_CAPTURE_SIZES": "100050"})


# --- issue 18: the true COPY limit, the floor, the fixed cost of a window, the ledger at scale ---------------


def test_the_limit_at_each_size_is_the_faster_of_psql_copy_and_the_server_side_copy():
    found = report.limits(
        runs("raw_copy", 100_000, [0.30, 0.20, 0.25], [3, 3, 3])
        + runs("server_copy", 100_000, [0.24, 0.26, 0.90], [3, 3, 3])
        + runs("raw_copy", 1_000_000, [3.0, 3.2], [3, 3])
        + runs("server_copy", 1_000_000, [2.0, 2.4], [3, 3])
        + runs("raw_copy", 5_000_000, [14.0], [3])
        + runs("load_orders", 5_000_000, [1.0], [50])  # never the limit, however fast
    )
    # by medians: psql 0.25 vs server 0.26 at 100k; server 2.2 vs psql 3.1 at 1M; at 5M only psql ran
    assert found == {
        100_000: ("raw_copy", 0.25),
        1_000_000: ("server_copy", pytest.approx(2.2)),
        5_000_000: ("raw_copy", 14.0),
    }
    assert report.limits([]) == {}


def test_ratios_are_to_the_limit_and_the_floor_ratio_only_for_the_window_cases():
    found = report.summarize(
        runs("raw_copy", 1_000_000, [4.0], [3])
        + runs("server_copy", 1_000_000, [3.0], [3])
        + runs("floor", 1_000_000, [10.0], [3])
        + runs("load_orders", 1_000_000, [3.3], [57])
        + runs("whole_window", 1_000_000, [16.0], [73])
    )
    assert [s.case for s in found] == ["raw_copy", "server_copy", "floor", "load_orders", "whole_window"]
    assert report.find(found, "raw_copy", 1_000_000).ratio == pytest.approx(0.75)
    assert report.find(found, "server_copy", 1_000_000).ratio == pytest.approx(1.0)
    assert report.find(found, "load_orders", 1_000_000).ratio == pytest.approx(3.0 / 3.3)
    whole = report.find(found, "whole_window", 1_000_000)
    assert whole.ratio == pytest.approx(3.0 / 16.0)
    assert whole.floor_ratio == pytest.approx(10.0 / 16.0)
    assert report.find(found, "floor", 1_000_000).floor_ratio == pytest.approx(1.0)
    assert report.find(found, "load_orders", 1_000_000).floor_ratio is None
    # without a floor at that size there is no floor ratio, never a zero
    (alone,) = report.summarize(runs("whole_window", 100_000, [2.0], [73]))
    assert (alone.ratio, alone.floor_ratio) == (None, None)


def test_the_limit_table_says_which_copy_was_the_limit_at_each_size():
    all_runs = (
        runs("raw_copy", 100_000, [0.20], [3])
        + runs("server_copy", 100_000, [0.25], [3])
        + runs("raw_copy", 1_000_000, [3.0], [3])
        + runs("server_copy", 1_000_000, [2.0], [3])
        + runs("raw_copy", 5_000_000, [14.0], [3])
    )
    rows = report.limits_table(report.summarize(all_runs), report.limits(all_runs)).splitlines()[2:]
    assert rows == [
        "| 100,000 | 0.20 | 0.25 | `psql \\copy` (server-side `COPY` took 1.25x its time) |",
        "| 1,000,000 | 3.00 | 2.00 | server-side `COPY` (`psql \\copy` took 1.50x its time) |",
        "| 5,000,000 | 14.00 | — | `psql \\copy` (the other was not run) |",
    ]


def fixed_run(per_window: float, windows: int = 48, busy_share: float = 0.8) -> dict:
    """What bench.fixed_cost returns: a one-worker backfill of `windows` windows of 100 orders."""
    wall = per_window * windows
    return {
        "workers": 1,
        "windows": windows,
        "orders_per_window": 100,
        "rows": 100 * windows,
        "wall": wall,
        "tasks": 11 * windows,
        "task_seconds": wall * busy_share,
        "busy": wall * busy_share,
        "outside_tasks": wall * (1 - busy_share),
    }


def ledger_run(dry: tuple[float, float], status: tuple[float, float]) -> dict:
    """What bench.ledger_overhead returns: medians over one window and over a year, per command."""
    return {
        "windows": 105_120,
        "markers_per_window": 12,
        "repeats": 3,
        "plan_one": 0.04,
        "plan_year": 0.05,
        "dry_one": dry[0],
        "dry_year": dry[1],
        "status_one": status[0],
        "status_year": status[1],
    }


def issue18(summaries, *, fixed=None, ledger=None, elapsed=None, all_runs=()) -> dict[str, tuple[str, str]]:
    found = report.targets(summaries, limit=report.limits(all_runs), fixed=fixed, ledger=ledger, elapsed=elapsed)
    return {t.name: (t.verdict, t.measured) for t in found if t.issue == 18}


def test_issue_18_targets_pass_and_fail_and_never_pass_what_was_not_measured():
    all_runs = (
        runs("raw_copy", 100_000, [0.30], [3])
        + runs("server_copy", 100_000, [0.25], [3])
        + runs("raw_copy", 1_000_000, [3.0], [3])
        + runs("server_copy", 1_000_000, [2.0], [3])
        + runs("floor", 1_000_000, [10.0], [3])
        + runs("whole_window", 1_000_000, [12.0], [73])  # 0.83x the floor
        + runs("load_orders", 1_000_000, [2.5], [57])  # 0.80x the limit
        + runs("load_orders", 100_000, [0.3], [56])
    )
    found = issue18(
        report.summarize(all_runs),
        fixed=fixed_run(0.5),
        ledger=ledger_run(dry=(0.6, 1.7), status=(0.5, 1.9)),
        elapsed=19 * 60.0,
        all_runs=all_runs,
    )
    assert found["floor: RunWindow at 1M vs the hand-written floor"] == ("PASS", "0.83x")
    assert found["floor: RunWindow at 5M vs the hand-written floor"] == ("not measured", "—")
    assert found["limit: LoadOrders at 1M vs the true COPY limit"] == ("FAIL", "0.80x")
    assert found["memory: LoadOrders peak at 100k, 1M"] == ("PASS", "56 → 57 MB (1.02x)")
    # 0.5 s a window against the limit's 0.25 s for 100k orders (the server-side COPY there)
    assert found["fixed cost: a window of 100 orders in a 1-worker backfill"] == ("FAIL", "0.50 s vs 0.25 s (2.00x)")
    dry = "ledger: `storepipe backfill --dry-run` over a year (105,120 complete windows)"
    status = "ledger: `storepipe status` over a year (105,120 complete windows)"
    assert found[dry] == ("PASS", "1.70 s, 2.8x one window (0.60 s)")
    assert found[status][0] == "FAIL"  # 1.9 s is under 2 s, but 3.8x one window is over 3x
    assert found["headroom: one window of 5M orders end to end"] == ("not measured", "—")
    assert found["duration: this whole `make bench` run"] == ("PASS", "19.0 min")


def test_the_year_check_fails_over_two_seconds_even_when_one_window_is_slow_too():
    found = issue18([], ledger=ledger_run(dry=(1.0, 2.5), status=(1.0, 2.0)))
    assert found["ledger: `storepipe backfill --dry-run` over a year (105,120 complete windows)"][0] == "FAIL"
    assert found["ledger: `storepipe status` over a year (105,120 complete windows)"][0] == "PASS"


def test_issue_18_targets_with_nothing_measured_are_all_not_measured():
    found = issue18([])
    assert found and {verdict for verdict, _ in found.values()} == {"not measured"}
    # a small-window backfill with no COPY of 100k in the run has nothing to compare with
    assert issue18([], fixed=fixed_run(0.1))["fixed cost: one small window in a 1-worker backfill"][0] == (
        "not measured"
    )


def test_a_small_window_passes_when_it_costs_no_more_than_the_copy_of_100k_orders():
    all_runs = runs("raw_copy", 100_000, [0.44], [3]) + runs("server_copy", 100_000, [0.40], [3])
    found = issue18(report.summarize(all_runs), fixed=fixed_run(0.39), all_runs=all_runs)
    assert found["fixed cost: a window of 100 orders in a 1-worker backfill"] == ("PASS", "0.39 s vs 0.40 s (0.97x)")


def test_a_5m_window_must_run_in_30_seconds_and_memory_must_stay_flat():
    all_runs = (
        runs("raw_copy", 5_000_000, [14.0], [3])
        + runs("whole_window", 5_000_000, [31.0], [74])
        + runs("load_orders", 100_000, [0.3], [40])
        + runs("load_orders", 5_000_000, [12.0], [60])  # under 100 MB but 1.5x the 100k peak
    )
    found = issue18(report.summarize(all_runs), all_runs=all_runs)
    assert found["headroom: one window of 5M orders end to end"] == ("FAIL", "31.0 s")
    assert found["memory: LoadOrders peak at 100k, 5M"] == ("FAIL", "40 → 60 MB (1.50x)")


def test_targets_come_grouped_by_issue_and_the_table_names_the_issue():
    found = report.targets(report.summarize(runs("raw_copy", 100_000, [0.2], [3])))
    issues = [t.issue for t in found]
    assert issues == sorted(issues) and set(issues) == {7, 13, 15, 18}
    assert report.targets_table(found).splitlines()[0] == "| issue | target | goal | measured | verdict |"
    assert report.targets_table(found).splitlines()[2].startswith("| #7 | throughput: load_orders at 1M |")


def test_the_document_gets_the_limit_fixed_cost_and_ledger_sections_or_says_they_did_not_run():
    all_runs = (
        runs("raw_copy", 100_000, [0.30], [3])
        + runs("server_copy", 100_000, [0.25], [3])
        + runs("floor", 100_000, [0.8], [3])
        + runs("whole_window", 100_000, [2.0], [73])
    )
    summaries = report.summarize(all_runs)
    config = {
        "sizes": [100_000],
        "repeats": 1,
        "original_max": 100_000,
        "dlt_max": 100_000,
        "file_sizes": {100_000: 11e6},
        "elapsed": 60.0,
        "rows_per_object": 100_000,
    }
    fixed, ledger = fixed_run(0.5), ledger_run(dry=(0.6, 9.7), status=(0.85, 14.0))
    text = report.document(
        summaries=summaries,
        found=report.targets(summaries, limit=report.limits(all_runs), fixed=fixed, ledger=ledger, elapsed=60.0),
        runs=all_runs,
        facts={},
        noop=None,
        backfills=[],
        config=config,
        fixed=fixed,
        ledger=ledger,
    )
    assert "## Targets (issues #7, #13, #15, #18):" in text
    assert "| hand-written floor" in text and "| 0.31 | 1.00 | 3 |" in text  # the floor: 0.25/0.8 and itself
    assert "| 100,000 | 0.30 | 0.25 | server-side `COPY` (`psql \\copy` took 1.20x its time) |" in text
    fixed_section = text.split("## Fixed cost of a window\n", 1)[1].split("\n## ", 1)[0]
    # 0.5 s a window: 0.4 inside tasks, 0.1 with none running, 11 tasks of 36 ms, next to the limit's 0.25 s
    assert "| 48 windows x 100 orders | 1 | 24.0 | 0.500 | 0.400 | 0.100 (20%) | 11.0 | 36 | 0.250 (server-side" in (
        fixed_section
    )
    ledger_section = text.split("## Ledger at scale\n", 1)[1].split("\n## ", 1)[0]
    assert "| 0.600 | 9.700 | 16.17 |" in ledger_section
    assert "105,120 windows x 12 markers" in ledger_section
    without = report.document(
        summaries=summaries,
        found=report.targets(summaries),
        runs=all_runs,
        facts={},
        noop=None,
        backfills=[],
        config=config,
    )
    assert "## Fixed cost of a window" not in without and "## Ledger at scale" not in without
    assert "The fixed cost of a window did not run" in without and "The ledger at scale did not run" in without


def test_the_limit_cases_always_run_and_the_new_knobs_have_defaults_and_refuse_bad_values():
    from benchmarks.bench import Settings

    found = Settings.from_env({"BENCH_CASES": "whole_window,floor"})
    assert found.cases == ["raw_copy", "server_copy", "floor", "whole_window"]  # in the tables' order
    defaults = Settings.from_env({})
    assert (defaults.small_windows, defaults.small_orders, defaults.ledger_repeats) == (48, 100, 3)
    assert defaults.dlt_max == 100_000
    with pytest.raises(StorepipeError, match="BENCH_SMALL_WINDOWS"):
        Settings.from_env({"BENCH_SMALL_WINDOWS": "0"})
    with pytest.raises(StorepipeError, match="BENCH_LEDGER_REPEATS"):
        Settings.from_env({"BENCH_LEDGER_REPEATS": "three"})


def test_windows_between_counts_the_windows_of_a_range():
    from benchmarks.bench import NOOP_DAY, NOOP_ONE, YEAR, windows_between

    assert windows_between(*NOOP_ONE) == 1
    assert windows_between(*NOOP_DAY) == 288
    assert windows_between(*YEAR) == 105_120


def test_others_share_is_the_machines_busy_time_less_the_benchmarks_as_a_share_of_the_machine():
    from benchmarks.cpu import Reading, others_share

    before = Reading(at=10.0, busy=100.0, ours=40.0)
    # 4 s on 2 cores: the machine was busy 5 CPU-seconds, 3 of them the benchmark's: others used 2 of 8
    assert others_share(before, Reading(at=14.0, busy=105.0, ours=43.0), cores=2) == pytest.approx(0.25)
    # the two readings' clock ticks can make ours exceed the machine's by a tick: never below 0, never above 1
    assert others_share(before, Reading(at=14.0, busy=103.0, ours=43.1), cores=2) == 0.0
    assert others_share(before, Reading(at=11.0, busy=110.0, ours=40.0), cores=2) == 1.0
    with pytest.raises(ValueError):
        others_share(before, before, cores=2)


def test_a_busy_machine_is_named_in_the_results_and_the_summary_keeps_the_worst_repeat():
    shared = [
        Run("floor", 1_000_000, 0, 8.4, 3, None, 0.02),
        Run("floor", 1_000_000, 1, 13.7, 3, None, 0.45),
        Run("floor", 1_000_000, 2, 8.5, 3, None, 0.03),
        Run("raw_copy", 1_000_000, 0, 2.2, 3),  # measured before others were measured: no share, no guess
    ]
    (floor,) = [s for s in report.summarize(shared) if s.case == "floor"]
    assert floor.others == 0.45
    assert report.others_text(shared) == "3% / 45% of the machine"
    assert report.busy_note(shared) == (
        "**1 of 4 timed runs shared the machine** (others used over 10% of it meanwhile), so they are slower "
        "than the machine is and medians lean on the other repeats: floor 1M #2 (45%)."
    )
    quiet = [Run("floor", 1_000_000, 0, 8.4, 3, None, 0.02)]
    assert report.busy_note(quiet) is None
    assert report.others_text([]) == "—"
