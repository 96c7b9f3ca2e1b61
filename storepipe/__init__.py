"""storepipe: a batch ELT pipeline on Luigi; `luigi --module storepipe RunWindow --window 2024-01-01T10:00`.

Luigi's `--module storepipe` imports this package and finds the tasks in its registry, so the package
registers them here: the one import from the top of the tree into a layer (docs/architecture.md).
"""

import luigi.tools.range  # noqa: F401  (so `--module storepipe RangeByMinutes` resolves)

from storepipe import tasks
from storepipe.tasks import *  # noqa: F403

__all__ = tasks.__all__
