"""RunWindow: everything for one window."""

from __future__ import annotations

import luigi

from storepipe.tasks.base import WindowTask
from storepipe.tasks.publish import PublishMarts


class RunWindow(WindowTask, luigi.WrapperTask):
    """Everything for one window: extracts, loads, staging, then marts published after their audit.

    Complete when the window's `publish` marker exists (written with the marts, after the checks pass).
    """

    def marker_names(self) -> list[str]:
        return ["publish"]

    def marker_name(self) -> str:
        return "publish"

    def requires(self):
        return PublishMarts(window=self.window)

    def output(self):
        return []
