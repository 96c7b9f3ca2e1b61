"""The embedded stack: idempotent `up`, read-only source role (invariant 9), migrations re-apply as no-ops."""

import psycopg2
import pytest
import requests

from storepipe.devstack import stack
from storepipe.errors import ConfigError
from storepipe.warehouse.migrate import migrate


def test_up_again_reuses_what_runs(stack_env):
    from pathlib import Path

    home = Path(stack_env["STOREPIPE_HOME"])
    before = {name: state for name, state, _ in stack.status(home)}
    again = stack.up(home, ports={"s3": 0, "risk_api": 0, "luigid": 0}, luigid=True)
    assert again["WAREHOUSE_URL"] == stack_env["WAREHOUSE_URL"]
    assert again["S3_ENDPOINT_URL"] == stack_env["S3_ENDPOINT_URL"]
    assert before == {name: state for name, state, _ in stack.status(home)}
    assert all(state == "running" for state in before.values())
    env_file = (home / "env").read_text()
    for name in (
        "WAREHOUSE_URL",
        "SOURCE_DB_URL",
        "S3_ENDPOINT_URL",
        "ORDERS_BUCKET",
        "LAKE_URL",
        "RISK_API_URL",
    ):
        assert f"export {name}=" in env_file


def test_pipeline_role_cannot_write_the_source(stack_env):
    conn = psycopg2.connect(stack_env["SOURCE_DB_URL"])
    try:
        with conn.cursor() as cur:
            cur.execute("select count(*) from customers")
            with pytest.raises(psycopg2.Error):
                cur.execute("insert into customers values (-5, 'x', 'y', 'SP', now(), now())")
    finally:
        conn.close()


def test_migrations_reapply_as_no_ops(stack_env):
    assert migrate(stack_env["WAREHOUSE_URL"], "warehouse") == []
    assert migrate(stack_env["SOURCE_DB_ADMIN_URL"], "source") == []


def test_risk_api_serves_health_and_openapi(stack_env):
    base = stack_env["RISK_API_URL"].rstrip("/")
    assert requests.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
    assert "/risk-scores" in requests.get(f"{base}/openapi.json", timeout=5).json()["paths"]


def test_a_home_too_deep_for_the_socket_is_refused_in_one_line_before_anything_starts(tmp_path):
    # pgserver would put the socket in a folder of its own, world-writable when run as root
    from tests.helpers import storepipe_cli

    home = tmp_path / ("deep-" * 20) / "home"
    result = storepipe_cli("up", env={"STOREPIPE_HOME": str(home)}, timeout=60)
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("storepipe: the dev stack's folder is too deep for PostgreSQL's socket")
    assert "set STOREPIPE_HOME to a shorter path" in result.stderr
    assert not (home / "pg").exists(), "no server was started"


def test_a_socket_folder_others_may_write_to_is_refused(tmp_path):
    folder = tmp_path / "sockets"
    folder.mkdir()
    folder.chmod(0o777)
    with pytest.raises(ConfigError, match=r"socket folder \S+ is writable by other users \(mode 777\)"):
        stack._require_private_socket_dir(folder, tmp_path / "no-server")
    folder.chmod(0o700)
    stack._require_private_socket_dir(folder, tmp_path / "no-server")


def test_the_stacks_socket_folder_is_private(stack_env):
    from pathlib import Path

    [(_, state, where)] = [row for row in stack.status(Path(stack_env["STOREPIPE_HOME"])) if row[0] == "postgres"]
    assert state == "running"
    socket_dir = Path(where).parent
    assert socket_dir == Path(stack_env["STOREPIPE_HOME"]) / "pg", "the socket sits in the data folder"
    assert socket_dir.stat().st_mode & 0o077 == 0, oct(socket_dir.stat().st_mode)
