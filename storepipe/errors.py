"""Errors a user can act on; the CLI shows each as one line, never a traceback."""


class StorepipeError(Exception):
    """Base class: `str(err)` is the whole message a user sees."""

    def __init__(self, what: str, where: str = "", todo: str = ""):
        self.what, self.where, self.todo = what, where, todo
        super().__init__(self.line())

    def line(self) -> str:
        text = self.what
        if self.where:
            text += f" ({self.where})"
        if self.todo:
            text += f"; {self.todo}"
        return text


class WindowError(StorepipeError, ValueError):
    """A window that is malformed, off the interval boundary or not yet closed."""


class ConfigError(StorepipeError):
    """A missing or invalid setting, or a file of the project that is not where it should be."""


class SourceUnavailable(StorepipeError):
    """A source system that is down or answers garbage after retries."""


class TooManyBadRows(StorepipeError):
    """More quarantined rows than the configured share allows."""


class UnreadableFile(StorepipeError):
    """A source file the pipeline cannot read at all (a required column is missing): the window waits for a fix."""


class LakeMismatch(StorepipeError):
    """A lake object that is not what its extract marker recorded (changed, cut short or gone)."""


class LakeObjectExists(StorepipeError):
    """A lake write whose key holds another object already: the lake is written once, never replaced."""


class ModelError(StorepipeError):
    """A transform model graph that cannot be built (unknown reference, cycle)."""


class CheckFailed(StorepipeError):
    """An error-level data check found offending rows."""


class WarehouseError(StorepipeError):
    """The warehouse (or another PostgreSQL) refused or broke off: unreachable, a timeout, a lock not granted."""


class InputReopened(StorepipeError):
    """A task's input was re-opened (a late change landed for its window) after Luigi scheduled it: the
    task writes nothing and the window runs again; nothing is broken."""
