"""Settings: luigi.cfg sections for knobs, the environment (or the dev stack's env file) for addresses and secrets."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import warnings
from functools import cache
from pathlib import Path

import luigi
from luigi.cmdline_parser import CmdlineParser
from luigi.task import UnconsumedParameterWarning
from luigi.task_register import Register

from storepipe.errors import ConfigError

ENV_FILE_NAME = "env"
GRACE_DEFAULT = "2 minutes"
# `[window] grace` is read by `window.grace`, not as a Parameter (see there): not a stray setting
warnings.filterwarnings(
    "ignore", message="The configuration contains the parameter 'grace'", category=UnconsumedParameterWarning
)


def home() -> Path:
    """The git-ignored state folder of the embedded stack (`.storepipe/` beside the checkout)."""
    return Path(os.environ.get("STOREPIPE_HOME", ".storepipe")).resolve()


@cache
def _env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export ") :]
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, raw = line.partition("=")
        parts = shlex.split(raw) or [""]
        values[name.strip()] = parts[0]
    return values


def setting(name: str, default: str | None = None) -> str:
    """An address or secret: the environment first, then `.storepipe/env` (written by `storepipe up`)."""
    if name in os.environ:
        return os.environ[name]
    value = _env_file(home() / ENV_FILE_NAME).get(name, default)
    if value is None:
        raise ConfigError(
            f"{name} is not set",
            f"environment or {home() / ENV_FILE_NAME}",
            "run `storepipe up` for the embedded stack, or export it (see .env.example)",
        )
    return value


def reset() -> None:
    """Forget the cached env file (tests that switch stacks)."""
    _env_file.cache_clear()


# Alerts go through Luigi's own notifications, which read [email] and [smtp]. Who receives them and
# the SMTP login are deployment settings, so they come from the environment: the committed luigi.cfg
# cannot name them (a `${VAR}` there fails when the variable is unset), and with no ALERT_RECEIVER
# nothing is sent.
ALERT_SETTINGS = {
    "ALERT_RECEIVER": ("email", "receiver"),  # addresses, comma-separated; or the SNS topic's ARN
    "ALERT_METHOD": ("email", "type"),  # smtp (default), sns, ses or sendgrid
    "ALERT_SENDER": ("email", "sender"),
    "SMTP_HOST": ("smtp", "host"),
    "SMTP_PORT": ("smtp", "port"),
    "SMTP_USERNAME": ("smtp", "username"),
    "SMTP_PASSWORD": ("smtp", "password"),
}


def apply_alert_settings() -> None:
    """Hand the alert settings found in the environment (or `.storepipe/env`) to Luigi's [email] and [smtp]."""
    cfg = luigi.configuration.get_config()
    for name, (section, option) in ALERT_SETTINGS.items():
        value = setting(name, "")
        if not value:
            continue
        if not cfg.has_section(section):
            cfg.add_section(section)
        # Luigi's parser interpolates `%` and `$`, which a password may hold
        cfg.set(section, option, value.replace("%", "%%").replace("$", "$$"))


class _Section(Register):
    """The metaclass of storepipe's settings sections: `warehouse()` builds its Config once per distinct
    text of its luigi.cfg section (and command line), not on every call. Luigi builds a Config by
    looking up each parameter in the configuration, 0.1-0.3 ms a section, and the hot paths read
    settings often (every task's window parameter reads `[window]` twice): a few dozen ms a window."""

    _built: dict[tuple, luigi.Config] = {}

    def __call__(cls, *args, **kwargs):
        if args or kwargs:
            return super().__call__(*args, **kwargs)
        parser = luigi.configuration.get_config()
        # the raw text (configparser's own dicts): `items()` would interpolate every value, 50 µs a call
        raw = parser._sections.get(cls.get_task_family(), {})
        key = (cls, id(parser), tuple(raw.items()), tuple(parser._defaults.items()), id(CmdlineParser.get_instance()))
        built = _Section._built.get(key)
        if built is None:
            built = _Section._built[key] = super().__call__()
        return built


class window(luigi.Config, metaclass=_Section):
    minutes = luigi.IntParameter(default=5, description="Length of one window in minutes; divides a day.")

    @property
    def grace(self) -> dt.timedelta:
        """How long after its end a window still counts as open (late uploads, late commits, clock skew).

        Read from `[window] grace` (e.g. `2 minutes`, `90 seconds`) but not declared as a Parameter: a
        second `--window-*` flag would make the `luigi` command's `--window` an ambiguous abbreviation.
        """
        return _duration(luigi.configuration.get_config().get("window", "grace", GRACE_DEFAULT))


@cache
def _duration(text: str) -> dt.timedelta:
    """`[window] grace` as a duration, parsed once per text (every task's window is checked against it)."""
    try:
        return luigi.TimeDeltaParameter().parse(text)
    except (ValueError, luigi.parameter.ParameterException):
        raise ConfigError(f"[window] grace {text!r} is not a duration", "luigi.cfg", "write e.g. `2 minutes`") from None


class warehouse(luigi.Config, metaclass=_Section):
    statement_timeout_s = luigi.IntParameter(
        default=0, significant=False, description="Per-statement timeout in seconds (0: none)."
    )
    lock_timeout_s = luigi.IntParameter(
        default=600,
        significant=False,
        description="Longest wait for a lock (a task's claim, a partition swap) before the task fails in one"
        " line (0: wait forever). Longer than a window's slowest task, or a second worker fails instead of waiting.",
    )
    keepalive_s = luigi.IntParameter(
        default=30,
        significant=False,
        description="TCP keepalive idle time, both ends; a dead worker's or server's connection (and so its"
        " locks) is given up after about twice this (0: the system's defaults).",
    )

    roll_up_after_days = luigi.IntParameter(
        default=1,
        significant=False,
        description="Whole days a closed day's windows keep one partition each (so that re-runs and late files"
        " of the cron's look-back are cheap swaps) before the cron path rolls the day into one partition.",
    )
    retention_days = luigi.IntParameter(
        default=0,
        significant=False,
        description="Days of store.* rows the warehouse keeps; older days are dropped"
        " by the cron path (the lake keeps them; `storepipe backfill --force` replays them). 0: keep everything.",
    )

    @property
    def url(self) -> str:
        return setting("WAREHOUSE_URL")


class customer_db(luigi.Config, metaclass=_Section):
    max_bad_share = luigi.FloatParameter(
        default=0.1, significant=False, description="Share of quarantined rows above which a window fails."
    )
    capture = luigi.ChoiceParameter(
        default="log",
        choices=("log", "query"),
        description="How customers are extracted: `log` (every change, from the replication slot) or `query`"
        " (rows whose datetime_updated is in the window, as the source holds them when the window runs).",
    )

    @property
    def url(self) -> str:
        return setting("SOURCE_DB_URL")

    slot = luigi.Parameter(
        default="",
        description="The replication slot of the log capture (empty: storepipe_<warehouse database name>, one per"
        " warehouse); set it to rebuild a warehouse under another name from the same slot and lake.",
    )

    @property
    def capture_url(self) -> str:
        return setting("SOURCE_DB_CAPTURE_URL")


class orders_bucket(luigi.Config, metaclass=_Section):
    prefix = luigi.Parameter(default="orders/", description="Key prefix above YYYY/MM/DD/HH/MM/.")
    max_bad_share = luigi.FloatParameter(
        default=0.1, significant=False, description="Share of quarantined rows above which a window fails."
    )
    chunk_bytes = luigi.IntParameter(
        default=512 * 1024, significant=False, description="Read size when streaming an object."
    )
    late_lookback = luigi.TimeDeltaParameter(
        default=dt.timedelta(days=1),
        significant=False,
        description="How far back `storepipe backfill` looks for objects that appeared under windows it"
        " already extracted, to re-open them (one listing per day); later ones are reported.",
    )

    @property
    def bucket(self) -> str:
        return setting("ORDERS_BUCKET")

    @property
    def endpoint_url(self) -> str | None:
        return setting("S3_ENDPOINT_URL", "") or None


class risk_api(luigi.Config, metaclass=_Section):
    page_size = luigi.IntParameter(default=500, significant=False, description="Items per page requested.")
    timeout_s = luigi.FloatParameter(default=10.0, significant=False, description="Per-request timeout.")
    attempts = luigi.IntParameter(default=5, significant=False, description="Tries per page before failing.")
    max_wait_s = luigi.FloatParameter(default=30.0, significant=False, description="Longest backoff between tries.")
    max_retry_time_s = luigi.FloatParameter(
        default=120.0, significant=False, description="Longest time one page may take, retries included."
    )
    max_bad_share = luigi.FloatParameter(
        default=0.1, significant=False, description="Share of quarantined rows above which a window fails."
    )

    @property
    def url(self) -> str:
        return setting("RISK_API_URL").rstrip("/")


class lake(luigi.Config, metaclass=_Section):
    @property
    def url(self) -> str:
        return setting("LAKE_URL")


class backfill(luigi.Config, metaclass=_Section):
    windows_per_build = luigi.IntParameter(
        default=12,
        significant=False,
        description="Windows per Luigi build; the scheduler's cost per task grows with the tasks in one build.",
    )
    task_limit = luigi.IntParameter(
        default=288,
        significant=False,
        description="Most windows one backfill runs (0: no limit); the next run goes on from there.",
    )


class plan(luigi.Config, metaclass=_Section):
    auto_apply = luigi.BoolParameter(
        default=False,
        significant=False,
        description="Whether `storepipe backfill` (the cron line) also rebuilds the windows of its range that"
        " were built by another version of a model, as `storepipe plan --apply` does; off: it only fills"
        " missing windows, and `storepipe status` says which are stale.",
    )


class alerts(luigi.Config, metaclass=_Section):
    repeat_after = luigi.TimeDeltaParameter(
        default=dt.timedelta(hours=4),
        significant=False,
        description="A backfill alerts a failed window once, then again only if it still fails this much later"
        " (or fails with another error): cron meets the same failures every run.",
    )
