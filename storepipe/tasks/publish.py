"""PublishMarts: a window's mart models and data checks in one transaction; marker `publish`."""

from __future__ import annotations

from storepipe import checks, publish
from storepipe.tasks.base import WindowTask
from storepipe.tasks.transform import TransformModel


class PublishMarts(WindowTask):
    """Builds every mart's slice (sql/transforms/marts), audits the window with sql/checks and
    commits only if no error-level check fails; marker `publish` (and `transform:<mart>`)."""

    def marker_name(self) -> str:
        return "publish"

    def requires(self):
        upstream = sorted({name for mart in publish.marts() for name in mart.upstream if name not in _mart_names()})
        return [TransformModel(window=self.window, model=name) for name in upstream]

    def run(self):
        try:
            with self.claim() as cur:
                if cur is None:
                    return
                rows = publish.publish(cur, self.window, self.task_id)
                self.output().touch(cur, sum(rows.values()))
        except publish.AuditFailed as failed:
            publish.record_failure(self.window, failed)
            raise checks.failure(self.window, failed.results) from None


def _mart_names() -> set[str]:
    return {mart.name for mart in publish.marts()}
