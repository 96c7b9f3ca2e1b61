"""RunWindow: everything for one window."""

from __future__ import annotations

import luigi

from storepipe import models
from storepipe.tasks.base import WindowTask
from storepipe.tasks.transform import TransformModel


class RunWindow(WindowTask, luigi.WrapperTask):
    """Every model of the window built; complete when every `transform:<model>` marker exists."""

    def marker_names(self) -> list[str]:
        return [f"transform:{name}" for name in models.discover()]

    def marker_name(self) -> str:
        return "run"

    def requires(self):
        return [TransformModel(window=self.window, model=name) for name in models.discover()]

    def output(self):
        return []
