"""PublishMarts: a window's mart models and data checks in one transaction; marker `publish`."""

from __future__ import annotations

from storepipe.tasks.base import WindowTask
from storepipe.tasks.load import LOADS
from storepipe.tasks.transform import TransformModel
from storepipe.transform import checks, models, publish, versions
from storepipe.warehouse.markers import PUBLISH, marker_name


class PublishMarts(WindowTask):
    """Builds every mart's slice (sql/transforms/marts), audits the window with sql/checks and
    commits only if no error-level check fails; marker `publish` (and `transform:<mart>`)."""

    def marker_name(self) -> str:
        return marker_name(PUBLISH)

    def requires(self):
        marts = publish.marts()
        upstream = sorted({name for mart in marts for name in models.needs(mart) if name not in _mart_names()})
        # the loads an ephemeral staging model reads (inlined into a mart) are the marts' own
        loads = sorted({source for mart in marts for source in mart.loads})
        return [self.below(LOADS[source]) for source in loads] + [
            self.below(TransformModel, model=name) for name in upstream
        ]

    def run(self):
        try:
            with self.claim() as cur:
                if cur is None:
                    return
                # a rebuild of changed models (`storepipe plan --apply`) keeps the marts that did not change
                rows = publish.publish(cur, self.window, self.task_id, keep_current=bool(self.rebuild_only))
                versions.touch(cur, self.output(), sum(rows.values()))
        except publish.AuditFailed as failed:
            publish.record_failure(self.window, failed)
            raise checks.failure(self.window, failed.results) from None


def _mart_names() -> set[str]:
    return {mart.name for mart in publish.marts()}
