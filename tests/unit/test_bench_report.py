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
    assert Settings.from_env({}).capture_repeats == 2
    found = Settings.from_env({"BENCH_CAPTURE_SIZES": "1000000,100000", "BENCH_CAPTURE_REPEATS": "1"})
    assert (found.capture_sizes, found.capture_repeats) == ([100_000, 1_000_000], 1)
    assert Settings.from_env({"BENCH_CAPTURE_SIZES": ""}).capture_sizes == []
    assert Settings.from_env({"BENCH_CAPTURE_SIZES": "0"}).capture_sizes == []
    with pytest.raises(StorepipeError, match="BENCH_CAPTURE_SIZES"):
        Settings.from_env({"BENCH_CAPTURE_SIZES": "lots"})
    with pytest.raises(StorepipeError, match="multiples of 100"):
        Settings.from_env({"BENCH_CAPTURE_SIZES": "100050"})
