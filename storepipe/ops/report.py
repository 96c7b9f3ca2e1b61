"""The end-of-run report: per source rows extracted, loaded and quarantined; rows in the marts."""

from __future__ import annotations

from urllib.parse import quote

from storepipe import config, sqlfiles
from storepipe.rows import SOURCES
from storepipe.warehouse import db
from storepipe.window import Window


def window_report(window: Window) -> dict:
    counts: dict[tuple[str, str], int] = {}
    with db.transaction() as cur:
        cur.execute(sqlfiles.load("pipeline/report/window_report"), window.sql_params())
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
