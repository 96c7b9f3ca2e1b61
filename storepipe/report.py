"""The end-of-run report: per source rows extracted, loaded and quarantined; rows in the marts."""

from __future__ import annotations

from urllib.parse import quote

from storepipe import config, sql, warehouse
from storepipe.window import Window

SOURCES = ("customers", "orders", "risk_scores")


def window_report(window: Window) -> dict:
    counts: dict[tuple[str, str], int] = {}
    with warehouse.transaction() as cur:
        cur.execute(sql.load("report/window_report"), window.sql_params())
        for stage, subject, rows in cur.fetchall():
            counts[(stage, subject)] = rows
    return {
        "window": window,
        "sources": {
            source: {stage: counts.get((stage, source)) for stage in ("extract", "load", "quarantined", "flagged")}
            for source in SOURCES
        },
        "transforms": {subject: rows for (stage, subject), rows in counts.items() if stage == "transform"},
        "marts": {subject: rows for (stage, subject), rows in counts.items() if stage == "mart"},
    }


def visualiser_url(task_id: str) -> str | None:
    base = config.setting("LUIGID_URL", "")
    if not base:
        return None
    return f"{base.rstrip('/')}/static/visualiser/index.html#tab=graph&taskId={quote(task_id)}"


def render(report: dict, visualiser: str | None) -> str:
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
