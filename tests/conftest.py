"""Session-scoped real servers (embedded PostgreSQL, moto S3 over HTTP, the risk API under uvicorn,
luigid), and per-test isolation: each test gets its own warehouse database, orders bucket and lake."""

from __future__ import annotations

import itertools
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import boto3
import luigi
import psycopg2
import pytest

from storepipe import config, warehouse
from storepipe.devstack import datagen, stack
from storepipe.window import Window

os.environ["LUIGI_CONFIG_PATH"] = str(Path(__file__).parent / "luigi.cfg")
luigi.configuration.get_config().reload()

# Each test takes its own windows from a shared calendar, so tests sharing the session's
# source DB never generate into the same window.
_window_numbers = itertools.count()
FIRST_TEST_WINDOW = Window.parse("2024-03-01T00:00", 5)


@pytest.fixture(scope="session")
def stack_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("stack")
    env = stack.up(home, ports={"s3": 0, "risk_api": 0, "luigid": 0}, luigid=True)
    # tests clone their warehouse from a template nobody connects to (CREATE DATABASE needs that)
    admin = _admin(env)
    with admin.cursor() as cur:
        cur.execute("create database warehouse_template template warehouse owner sde")
    admin.close()
    yield {**env, "STOREPIPE_HOME": str(home)}
    stack.down(home)


@dataclass
class Pipeline:
    """One test's world: its own warehouse DB, bucket and lake on the session's servers."""

    env: dict
    windows: list[Window]

    @property
    def warehouse_url(self) -> str:
        return self.env["WAREHOUSE_URL"]

    def window(self, offset: int = 0) -> Window:
        return self.windows[offset]

    def generate(self, window: Window, **options) -> dict:
        return datagen.generate(
            window,
            source_admin_url=self.env["SOURCE_DB_ADMIN_URL"],
            s3_endpoint_url=self.env["S3_ENDPOINT_URL"],
            bucket=self.env["ORDERS_BUCKET"],
            **options,
        )

    def s3(self):
        return boto3.client(
            "s3",
            endpoint_url=self.env["S3_ENDPOINT_URL"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        )


def _admin(stack_env) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(stack_env["SOURCE_DB_ADMIN_URL"], dbname="postgres")
    conn.autocommit = True
    return conn


@pytest.fixture
def pipeline(stack_env, tmp_path, monkeypatch):
    suffix = secrets.token_hex(4)
    database, bucket = f"warehouse_{suffix}", f"orders-{suffix}"
    admin = _admin(stack_env)
    with admin.cursor() as cur:
        cur.execute(f"create database {database} template warehouse_template owner sde")
    env = {
        **stack_env,
        "WAREHOUSE_URL": stack_env["WAREHOUSE_URL"].replace("/warehouse?", f"/{database}?"),
        "ORDERS_BUCKET": bucket,
        "LAKE_URL": (tmp_path / "lake").as_uri(),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config.reset()
    Pipeline(env, []).s3().create_bucket(Bucket=bucket)
    luigi.task_register.Register.clear_instance_cache()
    start = next(_window_numbers) * 12
    windows = [
        Window(FIRST_TEST_WINDOW.start + (start + i) * (FIRST_TEST_WINDOW.end - FIRST_TEST_WINDOW.start))
        for i in range(12)
    ]
    yield Pipeline(env, windows)
    warehouse.close_shared()
    with admin.cursor() as cur:
        cur.execute(f"drop database {database} with (force)")
    admin.close()
