"""The embedded stack: idempotent `up`, read-only source role (invariant 9), migrations re-apply as no-ops."""

import psycopg2
import pytest
import requests

from storepipe.devstack import stack
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
