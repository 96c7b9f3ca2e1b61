"""TransformModel: one task per SQL model per window; marker `transform:<model>`."""

from __future__ import annotations

import luigi

from storepipe import materialize, models, warehouse
from storepipe.tasks.base import WindowTask
from storepipe.tasks.load import LOADS


class TransformModel(WindowTask):
    """Rebuild a model's slice for the window in one transaction with its marker `transform:<model>`."""

    model = luigi.Parameter(description="Model name: a file stem under sql/transforms/ (see `storepipe sql list`).")

    def marker_name(self) -> str:
        return f"transform:{self.model}"

    def requires(self):
        definition = models.get(self.model)
        loads = [load(window=self.window) for load in LOADS.values()]
        upstream = [TransformModel(window=self.window, model=name) for name in definition.upstream]
        return loads + upstream

    def run(self):
        definition = models.get(self.model)
        with self.claim() as cur:
            if cur is None:
                return
            if definition.strategy == "by_key":
                # rows of one key may come from several windows: one writer per model at a time
                warehouse.lock(cur, self.marker_name())
            rows = materialize.materialize(cur, definition, self.window)
            self.output().touch(cur, rows)
