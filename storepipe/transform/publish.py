"""Write, audit, publish: a window's mart rows and its checks commit together, or not at all."""

from __future__ import annotations

import logging

from storepipe.transform import checks, materialize, models, versions
from storepipe.warehouse import db
from storepipe.warehouse.markers import TRANSFORM, MarkerTarget, marker_name
from storepipe.window import Window

log = logging.getLogger(__name__)

PUBLISH_LOCK = "publish:marts"


class AuditFailed(Exception):
    """An error-level check failed; carries every result so they can be recorded after the rollback."""

    def __init__(self, results):
        self.results = results


def marts() -> list[models.Model]:
    return [m for m in models.discover().values() if m.layer == "marts"]


def publish(cur, window: Window, task_id: str, keep_current: bool = False) -> dict[str, int]:
    """Build every mart's slice for the window and run every check, in the caller's transaction.

    Raises AuditFailed when an error-level check fails: the caller rolls back, so analysts never
    see the window's rows (then `record_failure` keeps the results). Staging is audited first: a
    defect there is reported by its own check, and no mart is built from it. With `keep_current`
    (a rebuild after a model changed), a mart whose marker is already on its current version keeps
    its rows: the same SQL over the same inputs would write them again."""
    staged = checks.run(cur, window, layer="staging")
    if checks.failure(window, staged):
        raise AuditFailed(staged)
    # marts hold rows of many windows (by_key models): one publisher at a time
    db.lock(cur, PUBLISH_LOCK)
    rows = {}
    for model in marts():
        target = MarkerTarget(marker_name(TRANSFORM, model.name), window, task_id)
        built = target.read(cur) if keep_current else None
        if built and built["version"] == versions.current()[target.task_name].fingerprint:
            rows[model.name] = built["row_count"]
            continue
        rows[model.name] = materialize.materialize(cur, model, window)
        versions.touch(cur, target, rows[model.name])
    results = staged + checks.run(cur, window, layer="marts")
    if checks.failure(window, results):
        raise AuditFailed(results)
    checks.record(cur, window, results)
    return rows


def record_failure(window: Window, error: AuditFailed) -> None:
    """Keep the failed audit's results (the marts were rolled back) so `storepipe checks` shows why."""
    with db.transaction() as cur:
        checks.record(cur, window, error.results)
