"""The line in docker/crontab, run as cron runs it: `/bin/sh -c` with cron's bare environment plus the
settings file, filling the missing windows of the last 24 hours; an overlapping run does nothing."""

import datetime as dt
import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from storepipe.tasks import RunWindow, completeness
from storepipe.window import Window, closed_until
from tests.helpers import REPO, query

CRONTAB = REPO / "docker" / "crontab"


def cron_job() -> tuple[str, str]:
    """(schedule, command) of the crontab's only job line."""
    jobs = [line for line in CRONTAB.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(jobs) == 1, jobs
    fields = jobs[0].split(None, 5)
    assert "%" not in fields[5], "cron would turn % into a newline"
    return " ".join(fields[:5]), fields[5]


def run_as_cron(command: str, env_file: Path, home: Path) -> subprocess.CompletedProcess:
    """What cron does: the job's command under /bin/sh, in HOME, with cron's own variables plus the env file's."""
    env = {"HOME": str(home), "LOGNAME": "storepipe", "SHELL": "/bin/sh", "PATH": "/usr/bin:/bin"}
    for line in env_file.read_text().splitlines():
        name, _, value = line.partition("=")
        env[name] = value
    return subprocess.run(["/bin/sh", "-c", command], cwd=home, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def cron_env(pipeline, tmp_path) -> tuple[Path, Path, Path]:
    """The environment file a cron host or the worker container provides, and the folders it names."""
    home, logs, tmp = tmp_path / "home", tmp_path / "logs", tmp_path / "tmp"
    for folder in (home, logs, tmp):
        folder.mkdir()
    settings = {
        **{name: value for name, value in pipeline.env.items() if name.isupper()},
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "LUIGI_CONFIG_PATH": str(REPO / "luigi.cfg"),
        "STOREPIPE_SQL_DIR": str(REPO / "sql"),
        "STOREPIPE_LOG_DIR": str(logs),
        "TMPDIR": str(tmp),
    }
    env_file = tmp_path / "storepipe.env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in settings.items()))
    return env_file, home, logs


def test_the_cron_line_fills_the_missing_windows_of_the_last_day(pipeline, cron_env):
    env_file, home, logs = cron_env
    schedule, command = cron_job()
    assert schedule == "2-59/5 * * * *", "two minutes after each window ends: its grace"
    assert "storepipe backfill --hours-back 24" in command and command.startswith("flock -n ")

    # every window of the last day complete but two, which have source data waiting
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    until = closed_until(now)
    day = Window(until - dt.timedelta(hours=26), 5).range_to(until + dt.timedelta(hours=1))
    gaps = [Window(until - dt.timedelta(hours=3), 5), Window(until - dt.timedelta(hours=4, minutes=5), 5)]
    names = sorted({name for family in completeness.families(RunWindow) for name in family.marker_names()})
    query(
        pipeline.warehouse_url,
        "insert into storepipe.markers (task_name, window_start, task_id, row_count)"
        " select name, start, 'seeded', 0 from unnest(%s::text[]) as name cross join unnest(%s::timestamp[]) as start",
        (names, [w.start for w in day if w not in gaps]),
    )
    for window in gaps:
        pipeline.generate(window, customers=3, orders=11)

    first = run_as_cron(command, env_file, home)
    assert first.returncode == 0, first.stderr + (logs / "backfill.log").read_text()
    log = (logs / "backfill.log").read_text()
    assert "2 of 288 windows to run" in log and "backfill: 2/2 windows done" in log, log
    done = query(
        pipeline.warehouse_url,
        "select window_start from storepipe.markers where task_name = 'publish' and task_id <> 'seeded'",
    )
    assert sorted(start for (start,) in done) == sorted(w.start for w in gaps)
    assert query(pipeline.warehouse_url, "select count(*) from analytics.fct_orders")[0][0] == 22

    second = run_as_cron(command, env_file, home)
    assert second.returncode == 0
    log = (logs / "backfill.log").read_text()
    assert log.count("all 288 windows complete, nothing to do") == 1, "each run appends to the log"


def test_an_overlapping_cron_run_does_no_work(pipeline, cron_env):
    env_file, home, logs = cron_env
    _, command = cron_job()
    lock = Path(dict(line.split("=", 1) for line in env_file.read_text().splitlines())["TMPDIR"])
    with open(lock / "storepipe-backfill.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a run still going
        overlapping = run_as_cron(command, env_file, home)
    assert overlapping.returncode == 1, "flock -n gives up at once"
    assert not (logs / "backfill.log").exists() or (logs / "backfill.log").read_text() == ""
    assert query(pipeline.warehouse_url, "select count(*) from storepipe.markers")[0][0] == 0
    assert os.listdir(home) == []
