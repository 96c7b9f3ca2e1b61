"""TransformModel: one task per staging model per window; marker `transform:<model>`."""

from __future__ import annotations

import luigi

from storepipe.errors import ModelError
from storepipe.tasks.base import WindowTask
from storepipe.tasks.load import LOADS
from storepipe.transform import materialize, models, versions
from storepipe.warehouse import db
from storepipe.warehouse.markers import TRANSFORM, marker_name


class StagingModelParameter(luigi.Parameter):
    """A staging model with a task of its own, refused in one line otherwise (at the command line, before
    anything is scheduled): a mart is built by PublishMarts, an ephemeral model inside its readers."""

    def normalize(self, x):
        definition = models.get(x)
        if definition.layer != "staging":
            raise ModelError(
                f"{x} is a mart, published with its window's checks",
                "--model",
                "run PublishMarts or RunWindow for the window",
            )
        if definition.ephemeral:
            raise ModelError(
                f"{x} is ephemeral: it has no table of its own, it runs inside the marts that read it",
                "--model",
                "run PublishMarts or RunWindow for the window",
            )
        return x


class TransformModel(WindowTask):
    """Rebuild a staging model's slice for the window in one transaction with its marker `transform:<model>`.

    Mart models are not run one by one: PublishMarts builds and audits them together.
    """

    model = StagingModelParameter(description="Staging model name: a file stem under sql/transforms/staging/.")

    def marker_name(self) -> str:
        return marker_name(TRANSFORM, self.model)

    def definition(self) -> models.Model:
        return models.get(self.model)

    def requires(self):
        definition = self.definition()
        # the loads its SQL reads (Model.loads), the graph `storepipe sql list` prints too
        loads = [self.below(LOADS[source]) for source in definition.loads]
        upstream = [self.below(TransformModel, model=name) for name in models.needs(definition)]
        return loads + upstream

    def run(self):
        definition = self.definition()
        with self.claim() as cur:
            if cur is None:
                return
            if definition.strategy == "by_key":
                # rows of one key may come from several windows: one writer per model at a time
                db.lock(cur, self.marker_name())
            rows = materialize.materialize(cur, definition, self.window)
            versions.touch(cur, self.output(), rows)
