"""storepipe: a batch ELT pipeline on Luigi; `luigi --module storepipe RunWindow --window 2024-01-01T10:00`."""

import logging

import luigi.tools.range  # noqa: F401  (so `--module storepipe RangeByMinutes` resolves)

from storepipe import tasks
from storepipe.errors import StorepipeError
from storepipe.tasks import *  # noqa: F403  (registers every task for `luigi --module storepipe`)

__all__ = tasks.__all__


class _OneLineUserErrors(logging.Filter):
    """Show a StorepipeError that reaches the `luigi` command as one line instead of a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, StorepipeError):
            record.msg, record.args = "storepipe: %s", (error.line(),)
            record.exc_info = record.exc_text = None
        return True


logging.getLogger("luigi-interface").addFilter(_OneLineUserErrors())
