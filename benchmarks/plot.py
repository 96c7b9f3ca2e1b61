"""benchmarks/results/throughput.png: rows/s and peak RSS against the window's size, one line per case."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from benchmarks import report

STYLE = {
    "raw_copy": ("black", "o", "--"),
    "server_copy": ("dimgray", "v", "--"),
    "floor": ("tab:orange", "P", "-."),
    "load_orders": ("tab:blue", "s", "-"),
    "whole_window": ("tab:green", "^", "-"),
    "original_way": ("tab:red", "x", ":"),
    "dlt": ("tab:purple", "d", ":"),
}
SHORT = {
    "raw_copy": "raw psql \\copy",
    "server_copy": "server-side COPY FROM file",
    "floor": "hand-written floor (COPY + one INSERT)",
    "load_orders": "storepipe LoadOrders",
    "whole_window": "storepipe RunWindow (end to end)",
    "original_way": "original project (execute_batch)",
    "dlt": "dlt (csv loader)",
}


def plot(summaries: Sequence[report.Summary], path: Path, facts: dict[str, str]) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, (speed, memory) = plt.subplots(1, 2, figsize=(12, 4.8))
    for case in report.CASES:
        points = sorted((s for s in summaries if s.case == case), key=lambda s: s.rows)
        if not points:
            continue
        colour, marker, line = STYLE.get(case, ("gray", ".", "-"))
        rows = [s.rows for s in points]
        label = SHORT.get(case, case)
        speed.plot(rows, [s.rows_per_s for s in points], color=colour, marker=marker, linestyle=line, label=label)
        memory.plot(rows, [s.rss_mb for s in points], color=colour, marker=marker, linestyle=line, label=label)
    for bound, label in (
        (report.MEMORY_MB, f"target ≤ {report.MEMORY_MB:.0f} MB (issue 7)"),
        (report.LOAD_MEMORY_MB, f"LoadOrders ≤ {report.LOAD_MEMORY_MB:.0f} MB, flat (issue 18)"),
    ):
        memory.axhline(bound, color="gray", linewidth=0.8)
        memory.annotate(
            label,
            (0.02, bound),
            xycoords=("axes fraction", "data"),
            textcoords="offset points",
            xytext=(0, 4),
            fontsize=8,
            color="gray",
        )
    for axis, title, unit in ((speed, "Throughput", "rows per second"), (memory, "Peak memory", "peak RSS, MB")):
        axis.set_xscale("log")
        axis.set_xlabel("orders in the window (rows)")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
    memory.set_yscale("log")
    speed.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:,.0f}"))
    speed.set_ylim(bottom=0)
    speed.legend(fontsize=8)
    fig.suptitle(
        f"storepipe make bench: {facts.get('cores (nproc)', '?')} cores, {facts.get('memory', '?')}, "
        f"PostgreSQL {facts.get('PostgreSQL', '?').split(' ')[0]}, {facts.get('date', '')}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
