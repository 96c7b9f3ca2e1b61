"""The embedded dev stack: PostgreSQL on a socket, then S3 (moto), the risk API and luigid on 127.0.0.1."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shlex
import signal
import socket
import stat
import subprocess  # nosec B404  # the dev stack starts its servers as child processes
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import boto3
import psutil
import psycopg2
from botocore.exceptions import ClientError

from storepipe import config, sqlfiles
from storepipe.errors import ConfigError, StorepipeError
from storepipe.warehouse import migrate

with warnings.catch_warnings():
    # platformdirs warns at pgserver's import when XDG_RUNTIME_DIR is unset; harmless, fatal under `-W error`
    warnings.simplefilter("ignore")
    import pgserver

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
SERVICES = ("s3", "risk_api", "luigid")
DEFAULT_PORTS = {"s3": 9555, "risk_api": 9556, "luigid": 8082}
PORT_ENV = {
    "s3": "STOREPIPE_S3_PORT",
    "risk_api": "STOREPIPE_RISK_API_PORT",
    "luigid": "STOREPIPE_LUIGID_PORT",
}
# a path its server answers on, and a piece of its command line that tells a live pid is still ours
HEALTH_PATH = {"s3": "/", "risk_api": "/healthz", "luigid": "/"}
CMDLINE_MARK = {"s3": "moto.server", "risk_api": "storepipe.simulator.risk_api_app:app", "luigid": "luigid"}
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0

# dev-stack-only credentials (the original project's README defaults); deployed stacks use real secrets.
# Each is marked for bandit (B105) and detect-secrets: a fixed local default on a 0700 socket, not a secret
SDE_PASSWORD = "password"  # nosec B105  # pragma: allowlist secret
READER = "storepipe_reader"
READER_PASSWORD = "reader"  # nosec B105  # pragma: allowlist secret
# change capture's replication role: reads the customers log through a slot, writes nothing
CAPTURE = "storepipe_capture"
CAPTURE_PASSWORD = "capture"  # nosec B105  # pragma: allowlist secret
# reads analytics (and store.states) only: what Metabase and analysts' psql use
ANALYST = "storepipe_analyst"
ANALYST_PASSWORD = "analyst"  # nosec B105  # pragma: allowlist secret
# luigid's task history: its own database, its own role
LUIGID_ROLE = "storepipe_luigid"
LUIGID_PASSWORD = "luigid"  # nosec B105  # pragma: allowlist secret
# the longest socket path a Unix-domain socket takes on Linux (sun_path less its final NUL)
SOCKET_PATH_MAX = 107
BUCKET = "orders"
# luigid's task history; SQLAlchemy 2 with sqlite breaks luigi 3.8.1's history, PostgreSQL does not
HISTORY_DB = "luigi_history"
AWS_KEY = "test"
AWS_REGION = "us-east-1"

# only the superuser keeps pgserver's passwordless access, so the roles' passwords mean something;
# "all" does not match replication connections, which need lines of their own
PG_HBA = (
    "# written by storepipe.devstack.stack: the superuser trusted, every other role by password\n"
    "local all postgres trust\n"
    "local all all scram-sha-256\n"
    "local replication postgres trust\n"
    f"local replication {CAPTURE} scram-sha-256\n"
)
# change capture needs logical decoding (a restart to change); the bound keeps a stalled slot
# from filling the disk (the slot is lost instead, and `storepipe cdc init --reset` recovers)
SERVER_SETTINGS = {"wal_level": "logical", "max_slot_wal_keep_size": "1024"}  # as pg_settings shows them (MB)

_ROOT = Path(__file__).resolve().parents[2]
# servers this process started; reaped on `down` so a stopped one does not linger as a zombie
_children: dict[int, subprocess.Popen] = {}


def up(home: Path, *, ports: dict | None = None, luigid: bool = True) -> dict[str, str]:
    """Start (or reuse) every service, write `home/env` and return the same settings."""
    home = Path(home).resolve()
    for folder in ("pids", "logs", "lake", "luigid"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    with _locked(home):
        socket_dir = _start_postgres(home)
        _provision(home / "pg", socket_dir)
        urls = _database_urls(socket_dir)
        python = [sys.executable, "-m"]
        s3_port = _ensure(home, "s3", _port("s3", ports), lambda p: [*python, "moto.server", "-H", HOST, "-p", str(p)])
        _create_bucket(f"http://{HOST}:{s3_port}")
        risk_port = _ensure(
            home,
            "risk_api",
            _port("risk_api", ports),
            lambda p: [*python, "uvicorn", CMDLINE_MARK["risk_api"], "--host", HOST, "--port", str(p)],
            env={"SOURCE_DB_URL": urls["SOURCE_DB_URL"]},
        )
        env = {
            **urls,
            "S3_ENDPOINT_URL": f"http://{HOST}:{s3_port}",
            "ORDERS_BUCKET": BUCKET,
            "LAKE_URL": (home / "lake").as_uri(),
            "RISK_API_URL": f"http://{HOST}:{risk_port}",
            "AWS_ACCESS_KEY_ID": AWS_KEY,
            "AWS_SECRET_ACCESS_KEY": AWS_KEY,
            "AWS_DEFAULT_REGION": AWS_REGION,
        }
        if luigid:
            luigid_port = _ensure(
                home,
                "luigid",
                _port("luigid", ports),
                lambda p: _luigid_command(home, p),
                env={"LUIGI_CONFIG_PATH": str(_write_luigid_config(home, socket_dir))},
            )
            env["LUIGID_URL"] = f"http://{HOST}:{luigid_port}/"
        _write_env(home / "env", env)
    config.reset()
    return env


def down(home: Path) -> list[str]:
    """Stop whatever `up` started under `home`; returns the names of the services stopped."""
    home = Path(home).resolve()
    if not home.is_dir():
        return []
    stopped = []
    with _locked(home):
        for name in reversed(SERVICES):
            pid = _read_int(home / "pids" / f"{name}.pid")
            if pid and _is_ours(pid, name):
                _terminate(pid, name)
                stopped.append(name)
            for suffix in ("pid", "port"):
                (home / "pids" / f"{name}.{suffix}").unlink(missing_ok=True)
        if _stop_postgres(home / "pg"):
            stopped.append("postgres")
        # the settings would point at servers that are gone; a missing one is the clearer error
        (home / "env").unlink(missing_ok=True)
    config.reset()
    return stopped


def status(home: Path) -> list[tuple[str, str, str]]:
    """(service, "running" or "stopped", its URL or socket) for each service of the stack."""
    home = Path(home).resolve()
    pgdata = home / "pg"
    info = _postmaster_lines(pgdata)
    pg_running = _postmaster_alive(pgdata)
    where = f"{info[4]}/.s.PGSQL.{info[3]}" if pg_running and len(info) > 4 else str(pgdata)
    rows = [("postgres", "running" if pg_running else "stopped", where)]
    for name in SERVICES:
        port = _read_int(home / "pids" / f"{name}.port")
        url = f"http://{HOST}:{port}/" if port else ""
        rows.append((name, "running" if _running_port(home, name) else "stopped", url))
    return rows


# --- PostgreSQL -----------------------------------------------------------------------------------


def _start_postgres(home: Path) -> Path:
    pgdata = (home / "pg").resolve()
    socket_dir = _run_postgres(pgdata)
    if _apply_server_settings(_pg_url(socket_dir, "postgres", None, "postgres")):
        # pg_ctl restart would drop pgserver's `-l` and leave its cached pid stale: stop, start afresh
        log.info("restarting postgres so wal_level = logical takes effect")
        _stop_postgres(pgdata)
        socket_dir = _run_postgres(pgdata)
    return socket_dir


def _run_postgres(pgdata: Path) -> Path:
    _require_short_socket_path(pgdata)
    # pgserver keeps one handle per data folder per process; after a `down` that handle is stale
    cached = pgserver.PostgresServer._instances.get(pgdata)
    if cached is not None and not _postmaster_alive(pgdata):
        del pgserver.PostgresServer._instances[pgdata]
    try:
        server = pgserver.get_server(pgdata, cleanup_mode=None)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        raise StorepipeError(f"embedded PostgreSQL did not start: {err}", str(pgdata / "log"), "read that log") from err
    socket_dir = server.get_postmaster_info().socket_dir
    _require_private_socket_dir(socket_dir, pgdata)
    _wait(lambda: _pg_answers(_pg_url(socket_dir, "postgres", None, "postgres")), "postgres", pgdata / "log")
    return socket_dir


def _require_short_socket_path(pgdata: Path) -> None:
    """The socket goes in the data folder (mode 0700), never in pgserver's fallback for long paths,
    a folder it makes world-writable when run as root: there, anyone could plant a socket."""
    socket_path = pgdata / ".s.PGSQL.5432"
    if len(os.fsencode(socket_path)) > SOCKET_PATH_MAX:
        raise ConfigError(
            f"the dev stack's folder is too deep for PostgreSQL's socket ({len(os.fsencode(socket_path))} bytes"
            f" in {socket_path}, at most {SOCKET_PATH_MAX})",
            "STOREPIPE_HOME",
            "set STOREPIPE_HOME to a shorter path",
        )


def _require_private_socket_dir(socket_dir: Path, pgdata: Path) -> None:
    """The superuser is trusted on the socket: only its owner may reach it (stopped if anyone else may)."""
    mode = Path(socket_dir).stat().st_mode
    if mode & (stat.S_IWOTH | stat.S_IWGRP):
        _stop_postgres(pgdata)
        raise ConfigError(
            f"PostgreSQL's socket folder {socket_dir} is writable by other users (mode {stat.S_IMODE(mode):o})",
            "the dev stack",
            "make it 0700 (chmod 700), or set STOREPIPE_HOME to a short path of your own",
        )


def _apply_server_settings(admin_url: str) -> bool:
    """Persist SERVER_SETTINGS with ALTER SYSTEM; True when a restart must apply them."""
    with _autocommit(admin_url) as cursor:
        cursor.execute(sqlfiles.load("devstack/server_settings"), {"names": list(SERVER_SETTINGS)})
        current = dict(cursor.fetchall())
        if current["max_slot_wal_keep_size"] != SERVER_SETTINGS["max_slot_wal_keep_size"]:
            cursor.execute(sqlfiles.load("devstack/set_max_slot_wal_keep_size"))
            cursor.execute(sqlfiles.load("devstack/reload_config"))
        if current["wal_level"] == SERVER_SETTINGS["wal_level"]:
            return False
        cursor.execute(sqlfiles.load("devstack/set_wal_level"))
        return True


def _provision(pgdata: Path, socket_dir: Path) -> None:
    """Roles, databases, migrations and the reader's grants; each step a no-op when already done."""
    admin = _pg_url(socket_dir, "postgres", None, "postgres")
    with _autocommit(admin) as cursor:
        cursor.execute(
            sqlfiles.load("devstack/setup_roles"),
            {
                "sde_password": SDE_PASSWORD,
                "reader_password": READER_PASSWORD,
                "capture_password": CAPTURE_PASSWORD,
                "analyst_password": ANALYST_PASSWORD,
                "luigid_password": LUIGID_PASSWORD,
            },
        )
        cursor.execute(sqlfiles.load("devstack/missing_databases"), {"names": ["source", "warehouse", HISTORY_DB]})
        for (name,) in cursor.fetchall():
            log.info("creating database %s", name)
            cursor.execute(sqlfiles.load(f"devstack/create_database_{name}"))
        cursor.execute(sqlfiles.load("devstack/luigi_history_owner"))
    with _autocommit(_pg_url(socket_dir, "postgres", None, HISTORY_DB)) as cursor:
        cursor.execute(sqlfiles.load("devstack/luigi_history_tables"))
    _require_passwords(pgdata, admin)
    migrate.migrate(_pg_url(socket_dir, "postgres", None, "source"), "source")
    # as sde, so the warehouse schemas and tables belong to the pipeline's own role
    migrate.migrate(_pg_url(socket_dir, "sde", SDE_PASSWORD, "warehouse"), "warehouse")
    with _autocommit(_pg_url(socket_dir, "postgres", None, "source")) as cursor:
        cursor.execute(sqlfiles.load("devstack/grant_reader"))


def _require_passwords(pgdata: Path, admin_url: str) -> None:
    hba = pgdata / "pg_hba.conf"
    if hba.read_text() == PG_HBA:
        return
    # rewritten in place so the file keeps its owner (the `pgserver` OS user when run as root)
    hba.write_text(PG_HBA)
    with _autocommit(admin_url) as cursor:
        cursor.execute(sqlfiles.load("devstack/reload_config"))


def _database_urls(socket_dir: Path) -> dict[str, str]:
    return {
        "WAREHOUSE_URL": _pg_url(socket_dir, "sde", SDE_PASSWORD, "warehouse"),
        "SOURCE_DB_URL": _pg_url(socket_dir, READER, READER_PASSWORD, "source"),
        "SOURCE_DB_ADMIN_URL": _pg_url(socket_dir, "postgres", None, "source"),
        "SOURCE_DB_CAPTURE_URL": _pg_url(socket_dir, CAPTURE, CAPTURE_PASSWORD, "source"),
        "WAREHOUSE_ANALYST_URL": _pg_url(socket_dir, ANALYST, ANALYST_PASSWORD, "warehouse"),
    }


def _pg_url(socket_dir: Path, user: str, password: str | None, database: str) -> str:
    auth = user if password is None else f"{user}:{quote(password, safe='')}"
    return f"postgresql://{auth}@/{database}?host={quote(str(socket_dir), safe='/')}"


def _pg_answers(url: str) -> bool:
    try:
        psycopg2.connect(url).close()
        return True
    except psycopg2.OperationalError:
        return False


@contextlib.contextmanager
def _autocommit(url: str) -> Iterator:
    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            yield cursor
    finally:
        conn.close()


def _stop_postgres(pgdata: Path) -> bool:
    lines = _postmaster_lines(pgdata)
    if not _postmaster_alive(pgdata):
        return False
    pid = int(lines[0])
    log.info("stopping postgres (pid %s)", pid)
    # SIGINT is PostgreSQL's "fast" shutdown: roll back open sessions, checkpoint, exit
    os.kill(pid, signal.SIGINT)
    if not _wait_gone(pid, 30.0):
        log.warning("postgres (pid %s) ignored a fast shutdown; sending an immediate one", pid)
        os.kill(pid, signal.SIGQUIT)
        _wait_gone(pid, STOP_TIMEOUT_S)
    # pgserver's own handle stays cached: its exit hook expects it; `up` replaces it when stale
    return True


def _postmaster_lines(pgdata: Path) -> list[str]:
    try:
        return (pgdata / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return []


def _postmaster_alive(pgdata: Path) -> bool:
    lines = _postmaster_lines(pgdata)
    if not lines or not lines[0].strip().isdigit():
        return False
    try:
        # a stale postmaster.pid may name a pid that now belongs to something else
        return psutil.Process(int(lines[0])).name() == "postgres"
    except psutil.Error:
        return False


# --- HTTP services ----------------------------------------------------------------------------------


def _ensure(home: Path, name: str, port: int, command: Callable[[int], list[str]], env: dict | None = None) -> int:
    """The port `name` answers on: the running one if it is ours and answers, else a fresh start."""
    running = _running_port(home, name)
    if running:
        if port and port != running:
            log.warning("%s already runs on port %s (asked for %s); reusing it", name, running, port)
        return running
    stale = _read_int(home / "pids" / f"{name}.pid")
    if stale and _is_ours(stale, name):
        log.warning("%s (pid %s) runs but does not answer; restarting it", name, stale)
        _terminate(stale, name)
    port = port or _free_port()
    if not _port_free(port):
        raise StorepipeError(
            f"port {port} for {name} is taken by another process",
            f"{HOST}:{port}",
            f"stop it, or set {PORT_ENV[name]} to another port (0 picks a free one)",
        )
    log_path = home / "logs" / f"{name}.log"
    child_env = {**os.environ, **(env or {})}
    # the package may be used from a checkout without being installed
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")]))
    with open(log_path, "ab") as out:
        # bandit B603: the dev stack's own servers, started from fixed argument lists; no shell
        proc = subprocess.Popen(  # nosec B603
            command(port),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=child_env,
            start_new_session=True,
        )
    _children[proc.pid] = proc
    (home / "pids" / f"{name}.pid").write_text(f"{proc.pid}\n")
    (home / "pids" / f"{name}.port").write_text(f"{port}\n")
    log.info("started %s (pid %s) on %s:%s", name, proc.pid, HOST, port)

    def answers() -> bool:
        if proc.poll() is not None:
            raise StorepipeError(f"{name} exited with code {proc.returncode} at start", str(log_path), "read that log")
        return _http_answers(port, HEALTH_PATH[name])

    _wait(answers, name, log_path)
    return port


def _write_luigid_config(home: Path, socket_dir: Path) -> Path:
    """luigid's own config: state file under the home, task history in the embedded PostgreSQL, Prometheus metrics."""
    history = _pg_url(socket_dir, LUIGID_ROLE, LUIGID_PASSWORD, HISTORY_DB).replace(
        "postgresql://", "postgresql+psycopg2://"
    )
    path = home / "luigid" / "luigi.cfg"
    path.write_text(
        "# written by `storepipe up` for the dev stack's luigid\n"
        "[scheduler]\n"
        f"state_path = {_cfg_escape(home / 'luigid' / 'state.pickle')}\n"
        "record_task_history = true\n"
        "# Prometheus metrics at /metrics: luigi_task_{started,failed,disabled,done}_total per family\n"
        "metrics_collector = prometheus\n"
        "[task_history]\n"
        f"db_connection = {_cfg_escape(history)}\n"
    )
    path.chmod(0o600)
    return path


def _cfg_escape(value: object) -> str:
    """A value for a luigi config file, whose parser interpolates `%` and `$`."""
    return str(value).replace("%", "%%").replace("$", "$$")


def _luigid_command(home: Path, port: int) -> list[str]:
    script = Path(sys.executable).with_name("luigid")
    return [
        sys.executable,
        str(script),
        "--address",
        HOST,
        "--port",
        str(port),
        "--state-path",
        str(home / "luigid" / "state.pickle"),
        "--logdir",
        str(home / "logs"),
    ]


def _running_port(home: Path, name: str) -> int | None:
    pid = _read_int(home / "pids" / f"{name}.pid")
    port = _read_int(home / "pids" / f"{name}.port")
    if pid and port and _is_ours(pid, name) and _http_answers(port, HEALTH_PATH[name]):
        return port
    return None


def _is_ours(pid: int, name: str) -> bool:
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        return False
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and CMDLINE_MARK[name] in " ".join(process.cmdline())
    except psutil.Error:
        return False


def _terminate(pid: int, name: str) -> None:
    log.info("stopping %s (pid %s)", name, pid)
    # each server leads its own session, so the group holds it and anything it spawned
    _signal_group(pid, signal.SIGTERM)
    if not _wait_gone(pid, STOP_TIMEOUT_S):
        log.warning("%s (pid %s) ignored SIGTERM for %.0f s; killing it", name, pid, STOP_TIMEOUT_S)
        _signal_group(pid, signal.SIGKILL)
        _wait_gone(pid, STOP_TIMEOUT_S)


def _signal_group(pid: int, sig: int) -> None:
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int, timeout: float) -> bool:
    try:
        child = _children.pop(pid, None)
        if child is not None:
            child.wait(timeout)
        else:
            psutil.Process(pid).wait(timeout)
    except (subprocess.TimeoutExpired, psutil.TimeoutExpired):
        if child is not None:
            _children[pid] = child
        return False
    except psutil.NoSuchProcess:
        pass
    return True


def _http_answers(port: int, path: str) -> bool:
    """Any HTTP answer counts: the server is up, whatever it thinks of an unsigned request."""
    # no proxy: a developer's HTTP_PROXY must not intercept 127.0.0.1
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://{HOST}:{port}{path}", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, urllib.error.URLError):
        return False


def _create_bucket(endpoint_url: str) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=AWS_KEY,
        aws_secret_access_key=AWS_KEY,
        region_name=AWS_REGION,
    )
    try:
        s3.create_bucket(Bucket=BUCKET)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") not in (
            "BucketAlreadyOwnedByYou",
            "BucketAlreadyExists",
        ):
            raise


# --- small helpers ----------------------------------------------------------------------------------


def _port(name: str, ports: dict | None) -> int:
    if ports and name in ports:
        return int(ports[name])
    raw = os.environ.get(PORT_ENV[name])
    if raw is None:
        return DEFAULT_PORTS[name]
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(
            f"{PORT_ENV[name]}={raw!r} is not a port number", "environment", "use 1..65535, or 0"
        ) from None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        # as the servers themselves do, so a socket in TIME_WAIT from a server just stopped does not count
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _wait(ready: Callable[[], bool], name: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if time.monotonic() > deadline:
            raise StorepipeError(
                f"{name} did not answer within {START_TIMEOUT_S:.0f} s", str(log_path), "read that log"
            )
        time.sleep(0.2)


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _write_env(path: Path, env: dict[str, str]) -> None:
    text = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())
    partial = path.with_name(path.name + ".tmp")
    partial.write_text("# written by `storepipe up`; dev-stack settings only\n" + text)
    partial.chmod(0o600)
    os.replace(partial, path)


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    """One `up` or `down` at a time per home, so two callers never start the same server twice."""
    (home / "pids").mkdir(parents=True, exist_ok=True)
    with open(home / "pids" / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
