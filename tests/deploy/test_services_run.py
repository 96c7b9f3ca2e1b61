"""The compose services' own commands, run here against the test servers with nothing but the environment
that docker/compose.yaml gives each of them (plus the image's ENV): proof that the settings suffice."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from storepipe import config
from tests.deploy import files
from tests.helpers import query

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def image_env(home: Path) -> dict[str, str]:
    """pipeline.Dockerfile's ENV, with the image's paths mapped onto this checkout."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "PYTHONUNBUFFERED": "1",
        "STOREPIPE_SQL_DIR": str(files.REPO / "sql"),
        # an empty home: no `.storepipe/env` to fall back on, so a missing setting fails
        "STOREPIPE_HOME": str(home / "storepipe-home"),
        "LUIGI_CONFIG_PATH": str(files.DOCKER / "luigi.cfg"),
    }


def service_env(service: str, values: dict[str, str], home: Path) -> dict[str, str]:
    """The image's ENV plus exactly the names compose sets for `service`, valued from the test servers."""
    names = files.services()[service].get("environment", {})
    missing = sorted(set(names) - set(values))
    assert not missing, f"the test has no value for {service}'s {missing}"
    return {**image_env(home), **{name: values[name] for name in names}}


def local_command(words: list[str], replace: dict[str, str] | None = None) -> list[str]:
    """A container command run here: image paths onto the checkout, all interfaces onto loopback, and
    `replace` (ports, service host names) applied to each word."""
    mapped = []
    for word in words:
        word = word.replace("/opt/storepipe/", f"{files.REPO}/").replace("0.0.0.0", "127.0.0.1")
        for old, new in (replace or {}).items():
            word = re.sub(rf"(?<![0-9]){old}(?![0-9])", new, word)
        mapped.append(str(BIN / word) if (BIN / word).is_file() else word)
    return mapped


def dockerfile_instruction(dockerfile: str, instruction: str) -> list[str]:
    """The JSON (exec form) arguments of the last CMD or HEALTHCHECK ... CMD of a Dockerfile."""
    text = (files.DOCKER / dockerfile).read_text().replace("\\\n", " ")
    lines = [line for line in text.splitlines() if line.startswith(f"{instruction} ")]
    return json.loads(lines[-1][lines[-1].index("[") :])


def run(words: list[str], env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(words, cwd=files.REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def start(words: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(words, cwd=files.REPO, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_http(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited {process.returncode}:\n{log.read_text()[-3000:]}"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {START_TIMEOUT_S}s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def healthcheck(service: str, env: dict, replace: dict[str, str]) -> subprocess.CompletedProcess:
    test = files.services()[service]["healthcheck"]["test"]
    assert test[0] == "CMD"
    return run(local_command(test[1:], replace), env, timeout=60)


def test_migrate_runs_with_its_environment(pipeline, tmp_path):
    env = service_env("migrate", pipeline.env, tmp_path)
    result = run(local_command(files.services()["migrate"]["command"]), env)
    assert result.returncode == 0, result.stderr
    assert "source:" in result.stdout and "warehouse:" in result.stdout


def test_generator_writes_with_its_environment(pipeline, tmp_path):
    env = service_env("generator", pipeline.env, tmp_path)
    command = files.services()["generator"]["command"]
    assert command == ["storepipe", "generate", "--follow"]
    window = pipeline.window(0)
    # --follow runs until stopped; one --window batch uses the same settings
    result = run(local_command([*command[:2], "--window", window.label, "--orders", "7"]), env)
    assert result.returncode == 0, result.stderr
    keys = pipeline.s3().list_objects_v2(Bucket=pipeline.env["ORDERS_BUCKET"]).get("KeyCount", 0)
    assert keys >= 1
    assert healthcheck("generator", env, {}).returncode == 0


def test_create_buckets_makes_the_orders_and_lake_buckets_once(pipeline, tmp_path):
    suffix = os.urandom(3).hex()
    values = {**pipeline.env, "ORDERS_BUCKET": f"orders-{suffix}", "LAKE_URL": f"s3://lake-{suffix}/lake"}
    env = service_env("create-buckets", values, tmp_path)
    command = local_command(files.services()["create-buckets"]["command"])
    first, again = run(command, env), run(command, env)
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    names = {b["Name"] for b in pipeline.s3().list_buckets()["Buckets"]}
    assert {f"orders-{suffix}", f"lake-{suffix}"} <= names
    assert "exists" in again.stdout


def test_risk_api_serves_with_its_environment_and_passes_its_healthcheck(pipeline, tmp_path):
    window = pipeline.window(1)
    pipeline.generate(window, customers=5, orders=5)
    port = str(free_port())
    env = service_env("risk-api", pipeline.env, tmp_path)
    log = tmp_path / "risk-api.log"
    process = start(local_command(dockerfile_instruction("risk-api.Dockerfile", "CMD"), {"8000": port}), env, log)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", process, log)
        params = urlencode({"start": window.start.isoformat(), "end": window.end.isoformat()})
        # the same answer as the embedded stack's risk API over the same source database
        answers = []
        for base in (f"http://127.0.0.1:{port}", pipeline.env["RISK_API_URL"].rstrip("/")):
            with urllib.request.urlopen(f"{base}/risk-scores?{params}", timeout=10) as response:
                answers.append(json.load(response))
        assert len(answers[0]["items"]) >= 5 and answers[0] == answers[1]
        check = run(local_command(dockerfile_instruction("risk-api.Dockerfile", "HEALTHCHECK"), {"8000": port}), env)
        assert check.returncode == 0, check.stderr
    finally:
        stop(process)
    check = run(local_command(dockerfile_instruction("risk-api.Dockerfile", "HEALTHCHECK"), {"8000": port}), env)
    assert check.returncode == 1 and "unhealthy" in check.stderr


def test_worker_runs_a_window_through_the_luigid_service_which_records_history_in_the_warehouse(pipeline, tmp_path):
    port = str(free_port())
    history = pipeline.warehouse_url.replace("postgresql://", "postgresql+psycopg2://")
    values = {**pipeline.env, "LUIGID_URL": f"http://127.0.0.1:{port}/", "LUIGI_HISTORY_URL": history}
    values.update(dict.fromkeys(config.ALERT_SETTINGS, ""))  # alerts off, as docker/.env.example leaves them
    luigid_env = service_env("luigid", values, tmp_path / "luigid")
    command = [*files.services()["luigid"]["command"], "--state-path", str(tmp_path / "state.pickle")]
    log = tmp_path / "luigid.log"
    luigid = start(local_command(command, {"8082": port}), luigid_env, log)
    try:
        wait_http(f"http://127.0.0.1:{port}/api/task_list?data=%7B%7D", luigid, log)
        assert healthcheck("luigid", luigid_env, {"8082": port}).returncode == 0
        window = pipeline.window(2)
        pipeline.generate(window, customers=6, orders=30)
        worker_env = service_env("worker", values, tmp_path / "worker")
        # the crontab's command over one window instead of the last 24 hours, with the worker's settings
        result = run(
            local_command(["storepipe", "backfill", "--start", window.label, "--end", window.end.isoformat()[:16]]),
            worker_env,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert query(pipeline.warehouse_url, "select count(*) from analytics.fct_orders")[0][0] == 30
        # luigid's history landed where LUIGI_HISTORY_URL points (compose: its own database luigi_history;
        # here the test's own database, so that every event counted is this luigid's)
        events = query(pipeline.warehouse_url, "select count(*) from task_events")[0][0]
        assert events > 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/history", timeout=10) as response:
            assert response.status == 200
        # docker/luigi.cfg turns on luigid's Prometheus collector: the run's tasks are counted
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            families = {f.name: f for f in text_string_to_metric_families(response.read().decode())}
        done = {s.labels["family"]: s.value for s in families["luigi_task_done"].samples if s.name.endswith("_total")}
        assert done.get("PublishMarts") == 1 and done.get("RunWindow") == 1
        worker_check = healthcheck("worker", worker_env, {"8082": port, "luigid": "127.0.0.1"})
        assert worker_check.returncode == 0, worker_check.stderr
    finally:
        stop(luigid)


def test_the_image_env_used_here_is_the_pipeline_images(tmp_path):
    text = (files.DOCKER / "pipeline.Dockerfile").read_text().replace("\\\n", " ")
    declared = {name for line in text.splitlines() if line.startswith("ENV ") for name in re.findall(r"(\w+)=", line)}
    assert set(image_env(tmp_path)) - {"HOME"} <= declared


@pytest.fixture
def fresh_postgres(tmp_path):
    """A PostgreSQL cluster of its own: the init script creates cluster-wide roles."""
    import pgserver

    server = pgserver.get_server(tmp_path / "pg", cleanup_mode="delete")
    try:
        yield server
    finally:
        server.cleanup()


def test_source_db_init_script_gives_the_reader_read_only_access(fresh_postgres, tmp_path):
    socket_dir = str(fresh_postgres.get_postmaster_info().socket_dir)
    superuser = f"postgresql://postgres@/postgres?host={quote(socket_dir, safe='/')}"
    conn = psycopg2.connect(superuser)
    conn.autocommit = True
    with conn.cursor() as cur:
        # what the postgres image does with POSTGRES_USER and POSTGRES_DB before running the script
        cur.execute("create role store superuser login")
        cur.execute("create database source owner store")
    conn.close()
    pg_bin = _pg_bin()
    env = {
        "PATH": f"{pg_bin}:/usr/bin:/bin",
        "PGHOST": socket_dir,
        "POSTGRES_USER": "store",
        "POSTGRES_DB": "source",
        "SOURCE_DB_READER_PASSWORD": "reader-secret",  # pragma: allowlist secret (a test password)
    }
    result = run(["bash", str(files.DOCKER / "source-db-init" / "10-reader-role.sh")], env, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    admin_url = f"postgresql://store@/source?host={quote(socket_dir, safe='/')}"
    from storepipe.warehouse.migrate import migrate

    assert migrate(admin_url, "source")
    reader = psycopg2.connect(f"postgresql://storepipe_reader:reader-secret@/source?host={quote(socket_dir, safe='/')}")
    try:
        with reader.cursor() as cur:
            cur.execute("select count(*) from customers")
            assert cur.fetchone() == (0,)
        reader.rollback()
        with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction), reader.cursor() as cur:
            cur.execute("insert into customers values (1, 'a', 'b', 'SP', now(), now())")
        reader.rollback()
        with pytest.raises(psycopg2.errors.InsufficientPrivilege), reader.cursor() as cur:
            cur.execute("set transaction read write")
            cur.execute("insert into customers values (1, 'a', 'b', 'SP', now(), now())")
    finally:
        reader.close()


def test_make_env_writes_secrets_once_and_takes_overrides(tmp_path):
    target = tmp_path / ".env"
    script = [sys.executable, str(files.DOCKER / "make_env.py"), str(target)]
    first = run(script, {"PATH": os.environ["PATH"]})
    assert first.returncode == 0, first.stderr
    values = files.env_file(target)
    secrets = {k: v for k, v in values.items() if re.search(r"_PASSWORD$|_SECRET_ACCESS_KEY$", k)}
    # SMTP_PASSWORD's goes unused until SMTP_USERNAME is set (Luigi logs in only with both)
    assert len(secrets) == 10 and all(re.fullmatch(r"[A-Za-z0-9_-]{30,}", v) for v in secrets.values())
    assert len(set(secrets.values())) == 10
    assert target.stat().st_mode & 0o777 == 0o600
    assert set(values) == set(files.env_file(files.DOCKER / ".env.example"))
    # a second run keeps every value; overrides win, an empty one stays empty (the AWS host's keys)
    again = run([*script, "AWS_SECRET_ACCESS_KEY=", "ORDERS_BUCKET=my-orders"], {"PATH": os.environ["PATH"]})
    assert again.returncode == 0, again.stderr
    after = files.env_file(target)
    assert after["AWS_SECRET_ACCESS_KEY"] == "" and after["ORDERS_BUCKET"] == "my-orders"
    assert after["WAREHOUSE_PASSWORD"] == values["WAREHOUSE_PASSWORD"]
    bad = run([*script, "not an assignment"], {"PATH": os.environ["PATH"]})
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and bad.stderr.startswith("make_env: ")


def test_healthcheck_script_reports_a_database_it_cannot_reach(tmp_path):
    env = {**image_env(tmp_path), "WAREHOUSE_URL": "postgresql://nobody:x@127.0.0.1:1/none"}
    result = run([sys.executable, str(files.DOCKER / "healthcheck.py"), "--postgres", "WAREHOUSE_URL"], env)
    assert result.returncode == 1 and result.stderr.startswith("unhealthy: WAREHOUSE_URL: ")
    unset = run([sys.executable, str(files.DOCKER / "healthcheck.py"), "--postgres", "NOT_SET_ANYWHERE"], env)
    assert unset.returncode == 1 and "NOT_SET_ANYWHERE is not set" in unset.stderr


def _pg_bin() -> Path:
    import pgserver

    return Path(pgserver.__file__).parent / "pginstall" / "bin"
