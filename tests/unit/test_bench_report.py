"""The benchmark's pure helpers: medians, ratios to raw COPY, verdicts, tables (the benchmark is `make bench`)."""

import pytest

from benchmarks import report
from benchmarks.report import Run


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
